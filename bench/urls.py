"""The portal's URLs plus the baseline page the benchmark compares every endpoint with."""

from django.urls import path

from bench.views import baseline
from vcc_portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [path("_bench/baseline/", baseline, name="bench_baseline"), *portal_urlpatterns]
