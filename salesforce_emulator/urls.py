"""The emulated hosts, mounted under ``/_emulator/salesforce/`` only when SALESFORCE_EMULATOR is on.

Each host (``production`` standing for login.salesforce.com, ``sandbox`` for test.salesforce.com) serves
Salesforce's own paths below its prefix, so a client configured with the host's root URL uses the same
paths as against the real thing.
"""

from __future__ import annotations

from django.urls import path, register_converter

from salesforce_emulator import views


class HostConverter:
    regex = "production|sandbox"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ApiVersionConverter(HostConverter):
    regex = r"[0-9]{2}\.[0-9]"


register_converter(HostConverter, "sf_host")
register_converter(ApiVersionConverter, "sf_version")

app_name = "salesforce_emulator"

urlpatterns = [
    path("<sf_host:host>/services/oauth2/authorize", views.authorize, name="authorize"),
    path("<sf_host:host>/login", views.login, name="login"),
    path("<sf_host:host>/consent", views.consent, name="consent"),
    path("<sf_host:host>/services/oauth2/token", views.token, name="token"),
    path("<sf_host:host>/services/oauth2/revoke", views.revoke, name="revoke"),
    path("<sf_host:host>/services/oauth2/introspect", views.introspect, name="introspect"),
    path("<sf_host:host>/services/oauth2/userinfo", views.userinfo, name="userinfo"),
    path("<sf_host:host>/id/<str:org_id>/<str:user_id>", views.identity_url, name="identity"),
    path("<sf_host:host>/services/data", views.rest_versions),
    path("<sf_host:host>/services/data/", views.rest_versions, name="rest_versions"),
    path("<sf_host:host>/services/data/v<sf_version:version>", views.rest_resources),
    path("<sf_host:host>/services/data/v<sf_version:version>/", views.rest_resources, name="rest_resources"),
    path("<sf_host:host>/services/data/v<sf_version:version>/query", views.query, name="query"),
    path("<sf_host:host>/services/data/v<sf_version:version>/query/", views.query),
    # Reference §8: every other REST path answers Salesforce's JSON NOT_FOUND, never an HTML page.
    path("<sf_host:host>/services/<path:path>", views.rest_not_found),
    path("_faults/", views.fault_control, name="faults"),
]
