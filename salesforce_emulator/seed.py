"""The emulator's demo data: the portal's connected app, orgs on both hosts, and their users.

``seed()`` only adds what is missing, so it is safe to call before every test and on every start-up.
Ids derive from names (``ids.derive``), so they are the same in every database. README.md lists the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from salesforce_emulator import directory
from salesforce_emulator.models import (
    PERMISSIONS,
    CallbackUrl,
    ConnectedApp,
    Host,
    Organization,
    SalesforceUser,
)

DEMO_PASSWORD = "Emulator-Pass-1"
DEFAULT_CONSUMER_KEY = "3MVG9emulatorVccCrmAdminConsumerKey"
DEFAULT_CONSUMER_SECRET = "emulator-consumer-secret"
APP_NAME = "VCC CRM Admin"
APP_SCOPES = "api refresh_token offline_access id profile email address phone openid"
DEFAULT_CALLBACK_URLS = (
    "http://127.0.0.1:8000/crm-admin/salesforce/callback/",
    "http://localhost:8000/crm-admin/salesforce/callback/",
)
# Reference §10: API Enabled and Edit Tasks are required; View All Users, View All Data and Password Never
# Expires are recommended extras, which the "basic" user lacks.
_BEYOND_BASIC = tuple(name for name in PERMISSIONS if name not in {"PermissionsApiEnabled", "PermissionsEditTask"})


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    note: str
    is_active: bool = True
    without: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoOrg:
    host: str
    name: str
    users: tuple[DemoUser, ...]
    is_active: bool = True
    api_enabled: bool = True


DEMO_ORGS: tuple[DemoOrg, ...] = (
    DemoOrg(
        Host.PRODUCTION,
        "Acme Corp",
        (
            DemoUser("api@acme.example", "Avery", "Api", "every permission"),
            DemoUser(
                "basic@acme.example",
                "Blake",
                "Basic",
                "only API Enabled and Edit Tasks",
                without=_BEYOND_BASIC,
            ),
            DemoUser("noapi@acme.example", "Noel", "Noapi", "no API Enabled", without=("PermissionsApiEnabled",)),
            DemoUser("notask@acme.example", "Nora", "Notask", "no Edit Tasks", without=("PermissionsEditTask",)),
            DemoUser("inactive@acme.example", "Ingrid", "Inactive", "inactive user", is_active=False),
            *(DemoUser(f"api{n}@acme.example", "Avery", f"Api {n}", "every permission") for n in range(2, 9)),
        ),
    ),
    DemoOrg(
        Host.PRODUCTION,
        "Locked Corp",
        (DemoUser("admin@locked.example", "Lee", "Locked", "org is inactive"),),
        is_active=False,
    ),
    DemoOrg(
        Host.PRODUCTION,
        "NoAPI Corp",
        (DemoUser("admin@noapi.example", "Nico", "Noapiorg", "org has the REST API off"),),
        api_enabled=False,
    ),
    DemoOrg(
        Host.SANDBOX,
        "Acme Corp UAT",
        (
            DemoUser("api@acme.example.uat", "Avery", "Api", "every permission"),
            DemoUser("api2@acme.example.uat", "Avery", "Api 2", "every permission"),
        ),
    ),
)


def seed() -> None:
    """Create the connected app, its callback URLs, the demo orgs and the demo users where missing."""
    with transaction.atomic():
        _connected_app()
        password_hash = ""
        for spec in DEMO_ORGS:
            org = Organization.objects.filter(host=spec.host, name=spec.name).first() or (
                directory.add_organization(
                    host=spec.host, name=spec.name, is_active=spec.is_active, api_enabled=spec.api_enabled
                )
            )
            for user in spec.users:
                if SalesforceUser.objects.filter(username__iexact=user.username).exists():
                    continue
                # One hash for every demo user: the password is public anyway, and hashing is slow.
                password_hash = password_hash or make_password(DEMO_PASSWORD)
                directory.add_user(
                    organization=org,
                    username=user.username,
                    password_hash=password_hash,
                    first_name=user.first_name,
                    last_name=user.last_name,
                    is_active=user.is_active,
                    without=user.without,
                )


def register_callback_url(url: str) -> None:
    """Add ``url`` to the connected app's callback URLs, e.g. a live test server's random-port callback."""
    app = _connected_app()
    CallbackUrl.objects.get_or_create(app=app, url=url)


def refresh_token_rotation(enabled: bool | None = None) -> bool:
    """Turn the connected app's refresh token rotation on or off (None: leave it); return the setting."""
    app = _connected_app()
    if enabled is not None and enabled != app.rotate_refresh_tokens:
        app.rotate_refresh_tokens = enabled
        app.save(update_fields=["rotate_refresh_tokens"])
    return app.rotate_refresh_tokens


def demo_users(host: str) -> list[DemoUser]:
    """List the demo users that log in on ``host``, for the login page's DEBUG help box."""
    return [user for org in DEMO_ORGS if org.host == host for user in org.users]


def _connected_app() -> ConnectedApp:
    """Create or update the portal's connected app from settings, with the default callback URLs."""
    app, _ = ConnectedApp.objects.update_or_create(
        consumer_key=getattr(settings, "SALESFORCE_CLIENT_ID", "") or DEFAULT_CONSUMER_KEY,
        defaults={
            "name": APP_NAME,
            "consumer_secret": getattr(settings, "SALESFORCE_CLIENT_SECRET", "") or DEFAULT_CONSUMER_SECRET,
            "scopes": APP_SCOPES,
        },
    )
    urls = {*DEFAULT_CALLBACK_URLS, getattr(settings, "SALESFORCE_REDIRECT_URI", "")} - {""}
    existing = set(app.callback_urls.values_list("url", flat=True))
    CallbackUrl.objects.bulk_create(CallbackUrl(app=app, url=url) for url in sorted(urls - existing))
    return app
