"""Root URLs. The Salesforce emulator is mounted only when SALESFORCE_EMULATOR is on."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("django-admin/", admin.site.urls),
    path("support/", include("support.urls")),
    path("api/v1/", include("api.urls", namespace="api-v1")),
    path("", include("crm_admin.urls")),
]

if settings.SALESFORCE_EMULATOR:
    urlpatterns.append(path("_emulator/salesforce/", include("salesforce_emulator.urls")))
