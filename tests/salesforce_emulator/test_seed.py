"""The demo data: what ``seed()`` creates, that it can run again, and extra callback URLs."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.test import override_settings

from salesforce_emulator.models import PERMISSIONS, CallbackUrl, ConnectedApp, Organization, SalesforceUser
from salesforce_emulator.seed import DEMO_PASSWORD, register_callback_url, seed


def permissions_of(username: str) -> set[str]:
    user = SalesforceUser.objects.get(username=username)
    return {name for name in PERMISSIONS if user.has_permission(name)}


def test_connected_app(seeded: None) -> None:
    app = ConnectedApp.objects.get()

    assert app.name == "VCC CRM Admin"
    assert app.consumer_key == "3MVG9emulatorVccCrmAdminConsumerKey"
    assert app.consumer_secret == "emulator-consumer-secret"
    assert {"api", "refresh_token", "offline_access", "id", "openid", "profile"} <= app.scope_set
    assert {
        "http://127.0.0.1:8000/crm-admin/salesforce/callback/",
        "http://localhost:8000/crm-admin/salesforce/callback/",
    } <= set(app.callback_urls.values_list("url", flat=True))


def test_orgs_live_on_their_host(seeded: None) -> None:
    orgs = {org.name: org for org in Organization.objects.all()}

    assert set(orgs) == {"Acme Corp", "Locked Corp", "NoAPI Corp", "Acme Corp UAT"}
    assert orgs["Acme Corp UAT"].host == "sandbox"
    assert not orgs["Locked Corp"].is_active
    assert not orgs["NoAPI Corp"].api_enabled
    assert orgs["Acme Corp"].is_active and orgs["Acme Corp"].api_enabled


def test_demo_users_and_their_permissions(seeded: None) -> None:
    everything = set(PERMISSIONS)

    assert permissions_of("api@acme.example") == everything
    assert permissions_of("basic@acme.example") == {"PermissionsApiEnabled", "PermissionsEditTask"}
    assert permissions_of("noapi@acme.example") == everything - {"PermissionsApiEnabled"}
    assert permissions_of("notask@acme.example") == everything - {"PermissionsEditTask"}
    assert not SalesforceUser.objects.get(username="inactive@acme.example").is_active
    for n in range(2, 9):
        assert permissions_of(f"api{n}@acme.example") == everything
    assert SalesforceUser.objects.get(username="admin@locked.example").organization.name == "Locked Corp"
    assert SalesforceUser.objects.get(username="admin@noapi.example").organization.name == "NoAPI Corp"
    uat = SalesforceUser.objects.filter(organization__name="Acme Corp UAT")
    assert set(uat.values_list("username", flat=True)) == {"api@acme.example.uat", "api2@acme.example.uat"}


def test_demo_passwords_are_hashed(seeded: None) -> None:
    user = SalesforceUser.objects.get(username="api@acme.example")

    assert user.password != DEMO_PASSWORD
    assert check_password(DEMO_PASSWORD, user.password)


def test_seed_is_idempotent(seeded: None) -> None:
    before = (Organization.objects.count(), SalesforceUser.objects.count(), CallbackUrl.objects.count())

    seed()
    seed()

    assert (Organization.objects.count(), SalesforceUser.objects.count(), CallbackUrl.objects.count()) == before
    assert SalesforceUser.objects.count() == 16


def test_seed_keeps_ids_stable_across_databases(seeded: None) -> None:
    user = SalesforceUser.objects.get(username="api@acme.example")
    SalesforceUser.objects.all().delete()
    Organization.objects.all().delete()

    seed()

    assert SalesforceUser.objects.get(username="api@acme.example").id == user.id


def test_seed_registers_the_configured_redirect_uri(db: None) -> None:
    with override_settings(SALESFORCE_REDIRECT_URI="http://portal.test:8123/crm-admin/salesforce/callback/"):
        seed()

    assert CallbackUrl.objects.filter(url="http://portal.test:8123/crm-admin/salesforce/callback/").exists()


def test_register_callback_url_adds_once(seeded: None) -> None:
    register_callback_url("http://localhost:54321/crm-admin/salesforce/callback/")
    register_callback_url("http://localhost:54321/crm-admin/salesforce/callback/")

    assert CallbackUrl.objects.filter(url="http://localhost:54321/crm-admin/salesforce/callback/").count() == 1


def test_register_callback_url_works_before_seed(db: None) -> None:
    register_callback_url("http://localhost:54321/crm-admin/salesforce/callback/")

    assert ConnectedApp.objects.get().callback_urls.filter(url__contains="54321").exists()
