"""The API's URLs under ``/api/v1/``: django-ninja's, made to answer errors in JSON, then a JSON 404 for any
other path."""

from django.urls import URLPattern, re_path

from api.endpoints import api
from api.errors import json_errors, unknown_path

app_name = "api"

urlpatterns = [
    *(URLPattern(p.pattern, json_errors(p.callback), p.default_args, p.name) for p in api.urls[0]),
    re_path(r"", unknown_path, name="unknown"),
]
