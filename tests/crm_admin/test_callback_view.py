"""The OAuth redirect URI and the login redirect: the checklist's attack matrix (A6, A11, A12, B4)."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.test import Client

from crm_admin.models import AuthorizationOutcome, LinkEvent, PendingAuthorization, SalesforceLink
from tests.conftest import logged_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CALLBACK = "/crm-admin/salesforce/callback/"


def start(client: Client, slug: str = "acme", **extra) -> str:
    response = client.post(
        f"/accounts/{slug}/crm-admin/salesforce/link/",
        {"org_type": "production", "display": "popup", **extra},
    )
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def test_code_without_state_makes_no_outbound_call(admin_client_):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        response = admin_client_.get(CALLBACK, {"code": "random-code"})
        assert len(mock.calls) == 0
    assert response.status_code == 400
    assert "no-store" in response["Cache-Control"]


def test_error_description_is_never_rendered(admin_client_, account):
    state = start(admin_client_)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        response = admin_client_.get(
            CALLBACK,
            {"error": "access_denied", "error_description": "<script>alert(1)</script>", "state": state},
            follow=True,
        )
        assert len(mock.calls) == 0
    body = response.content.decode()
    assert "<script>alert(1)" not in body and "Access was not allowed in Salesforce" in body
    assert PendingAuthorization.objects.get().outcome == AuthorizationOutcome.DENIED
    assert SalesforceLink.objects.get(account=account).status == "unlinked"
    assert LinkEvent.objects.get().action == "denied"


def test_callback_redirects_to_a_clean_url_with_no_referrer(admin_client_):
    state = start(admin_client_)
    response = admin_client_.get(CALLBACK, {"error": "access_denied", "state": state})
    assert response.status_code == 302
    assert "state" not in response["Location"] and "code" not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_extra_account_parameter_on_the_callback_is_ignored(admin_client_, other_account):
    state = start(admin_client_)
    admin_client_.get(CALLBACK, {"error": "access_denied", "state": state, "account": other_account.slug})
    assert PendingAuthorization.objects.get().account.slug == "acme"
    assert not LinkEvent.objects.filter(account=other_account).exists()


def test_state_started_in_one_session_is_useless_in_another_session_of_the_same_user(admin_user):
    first, second = logged_in(admin_user), logged_in(admin_user)
    state = start(first)
    assert second.get(CALLBACK, {"error": "access_denied", "state": state}).status_code == 400
    assert PendingAuthorization.objects.get().outcome == AuthorizationOutcome.PENDING


def test_tab_mode_returns_to_the_crm_admin_page_with_the_message(admin_client_):
    response = admin_client_.post(
        "/accounts/acme/crm-admin/salesforce/link/", {"org_type": "sandbox", "display": "tab"}
    )
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    response = admin_client_.get(CALLBACK, {"error": "access_denied", "state": state}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/acme/crm-admin/"
    assert "Access was not allowed in Salesforce" in response.content.decode()


def test_link_start_without_csrf_token_is_refused(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.login(username=admin_user.username, password=PASSWORD)
    response = client.post("/accounts/acme/crm-admin/salesforce/link/", {"org_type": "production"})
    assert response.status_code == 403
    assert not PendingAuthorization.objects.exists()


def test_link_start_with_a_bad_org_type_changes_nothing(admin_client_):
    response = admin_client_.post("/accounts/acme/crm-admin/salesforce/link/", {"org_type": "evil"})
    assert response.status_code == 303 and response["Location"] == "/accounts/acme/crm-admin/"
    popup = admin_client_.post("/accounts/acme/crm-admin/salesforce/link/", {"org_type": "evil", "display": "popup"})
    assert popup.status_code == 400 and "Choose Production or Sandbox" in popup.content.decode()
    assert popup["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert not PendingAuthorization.objects.exists()


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
def test_login_next_never_leaves_the_site(admin_user, target):
    response = Client().post(
        f"/login/?next={target}", {"username": admin_user.username, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_abandon_and_status_are_for_the_owner_only(admin_client_, account):
    ref = uuid.uuid4()
    start(admin_client_, client_ref=str(ref))
    status_url = f"/accounts/acme/crm-admin/salesforce/attempts/status/?ref={ref}"
    abandon_url = "/accounts/acme/crm-admin/salesforce/attempts/abandon/"
    assert admin_client_.get(status_url).json()["status"] == "pending"
    colleague = UserFactory(username="acme.second", role="admin")
    account.members.add(colleague)  # same account, but not the attempt's owner
    assert logged_in(colleague).get(status_url).status_code == 404
    assert logged_in(colleague).post(abandon_url, {"ref": str(ref)}).status_code == 404
    response = admin_client_.post(abandon_url, {"ref": str(ref)})
    assert response.json()["status"] == "abandoned" and "cancelled" in response.json()["message"]
    assert PendingAuthorization.objects.get().outcome == AuthorizationOutcome.ABANDONED


def test_twenty_five_quick_starts_from_one_browser_session_hit_the_rate_limit(admin_client_):
    """Issue 11 item 1: the per-user start limit holds within one session, however many are evicted."""
    from crm_admin.services.links import MAX_OPEN_ATTEMPTS_PER_SESSION, MAX_STARTS_PER_MINUTE

    statuses = [
        admin_client_.post(
            "/accounts/acme/crm-admin/salesforce/link/", {"org_type": "production", "display": "popup"}
        ).status_code
        for _ in range(25)
    ]
    assert statuses == [302] * MAX_STARTS_PER_MINUTE + [400] * (25 - MAX_STARTS_PER_MINUTE)
    assert PendingAuthorization.objects.count() == MAX_STARTS_PER_MINUTE
    assert PendingAuthorization.objects.filter(consumed_at__isnull=True).count() == MAX_OPEN_ATTEMPTS_PER_SESSION
    refused = admin_client_.post(
        "/accounts/acme/crm-admin/salesforce/link/", {"org_type": "production", "display": "popup"}
    )
    assert "Too many linking attempts" in refused.content.decode()


def test_an_error_that_is_not_an_oauth_error_code_is_recorded_as_malformed(admin_client_, account):
    """Found by the callback property test: a NUL in ``error`` could not be stored on PostgreSQL (a 500)."""
    state = start(admin_client_)
    response = admin_client_.get(CALLBACK, {"error": "access_denied\x00<script>", "state": state})
    assert response.status_code == 302
    attempt = PendingAuthorization.objects.get()
    assert attempt.outcome == AuthorizationOutcome.FAILED and attempt.consumed_at is not None
    assert LinkEvent.objects.get().detail["salesforce_error"] == "malformed"
    assert SalesforceLink.objects.get(account=account).status == "unlinked"


def test_a_well_formed_error_code_is_recorded_as_sent(admin_client_):
    state = start(admin_client_)
    admin_client_.get(CALLBACK, {"error": "inactive_user", "error_description": "user is not active", "state": state})
    assert LinkEvent.objects.get().detail["salesforce_error"] == "inactive_user"
