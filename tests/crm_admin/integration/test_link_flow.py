"""The whole Link/Relink/Unlink flow over real HTTP against the Salesforce emulator on the live server."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from crm_admin.models import (
    AuthorizationOutcome,
    LinkStatus,
    PendingAuthorization,
    PendingRevoke,
    SalesforceLink,
)
from tests.conftest import logged_in
from tests.crm_admin.integration.conftest import Portal, query

pytestmark = pytest.mark.django_db(transaction=True)


def link_of(portal: Portal) -> SalesforceLink:
    return SalesforceLink.objects.select_related("api_user").get(account__slug=portal.slug)


def active_emulator_grants(username: str) -> int:
    from salesforce_emulator.models import RefreshToken

    return RefreshToken.objects.filter(user__username=username, revoked_at__isnull=True).count()


def test_link_production_then_relink_sandbox_then_unlink(portal: Portal):
    response = portal.link("api@acme.example")
    assert response.status_code == 302 and "code=" not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    link = link_of(portal)
    assert link.status == LinkStatus.LINKED and link.org_type == "production"
    assert link.api_username == "api@acme.example"
    assert link.api_user.org_id.startswith("00D") and len(link.api_user.org_id) == 18
    assert "/_emulator/salesforce/production" in link.instance_url
    page = portal.page()
    assert "Linked" in page and link.api_user.org_id in page and "api@acme.example" in page
    assert active_emulator_grants("api@acme.example") == 1

    portal.link("api@acme.example.uat", org_type="sandbox")
    link = link_of(portal)
    assert link.status == LinkStatus.LINKED and link.org_type == "sandbox"
    assert link.api_username == "api@acme.example.uat"
    assert "/_emulator/salesforce/sandbox" in link.instance_url
    assert active_emulator_grants("api@acme.example") == 0  # the old grant was revoked at Salesforce
    assert active_emulator_grants("api@acme.example.uat") == 1

    response = portal.client.post(f"/accounts/{portal.slug}/crm-admin/salesforce/unlink/")
    assert response.status_code == 303
    assert link_of(portal).status == LinkStatus.UNLINKED
    assert active_emulator_grants("api@acme.example.uat") == 0
    assert "Unlinked" in portal.client.get(response["Location"]).content.decode()


def test_deny_changes_nothing(portal: Portal):
    response = portal.link("api@acme.example", decision="Deny")
    assert response.status_code == 302
    assert link_of(portal).status == LinkStatus.UNLINKED
    attempt = PendingAuthorization.objects.get()
    assert attempt.outcome == AuthorizationOutcome.DENIED
    assert "Access was not allowed in Salesforce" in portal.client.get(response["Location"]).content.decode()


def test_reused_state_is_rejected(portal: Portal):
    started = portal.start()
    callback_url = portal.salesforce(started["Location"], "api@acme.example")
    assert portal.callback(callback_url).status_code == 302
    replay = portal.callback(callback_url)
    assert replay.status_code == 400
    assert PendingAuthorization.objects.get().outcome == AuthorizationOutcome.LINKED


def test_expired_state_is_rejected_and_changes_nothing(portal: Portal):
    started = portal.start()
    callback_url = portal.salesforce(started["Location"], "api@acme.example")
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = portal.callback(callback_url)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert link_of(portal).status == LinkStatus.UNLINKED


def test_state_of_another_user_is_rejected(portal: Portal, other_admin):
    started = portal.start()
    callback_url = portal.salesforce(started["Location"], "api@acme.example")
    stranger = Portal(client=logged_in(other_admin), slug="globex")
    response = stranger.callback(callback_url)
    assert response.status_code == 400
    assert link_of(portal).status == LinkStatus.UNLINKED
    assert portal.callback(callback_url).status_code == 302  # the owner can still finish
    assert link_of(portal).status == LinkStatus.LINKED


def test_signature_mismatch_is_rejected_and_the_grant_revoked(portal: Portal):
    from salesforce_emulator import faults

    started = portal.start()
    callback_url = portal.salesforce(started["Location"], "api@acme.example")
    faults.inject("token", "bad_signature")  # a token answer whose HMAC does not verify
    response = portal.callback(callback_url)
    assert response.status_code == 302
    assert link_of(portal).status == LinkStatus.UNLINKED
    attempt = PendingAuthorization.objects.get()
    assert attempt.outcome == AuthorizationOutcome.FAILED and "could not be verified" in attempt.message
    assert active_emulator_grants("api@acme.example") == 0  # the unverified grant was revoked anyway
    assert not PendingRevoke.objects.exists()


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("server_error", "did not answer properly"),
        ("malformed_json", "did not answer properly"),
        ("rate_limited", "too many logins"),
        ("timeout", "did not answer properly"),
    ],
)
def test_token_endpoint_faults_change_nothing(portal: Portal, settings, kind, text):
    from salesforce_emulator import faults

    settings.SALESFORCE_READ_TIMEOUT = 1.0
    started = portal.start()
    callback_url = portal.salesforce(started["Location"], "api@acme.example")
    faults.inject("token", kind, times=1, delay=3 if kind == "timeout" else None)
    response = portal.callback(callback_url)
    assert response.status_code == 302
    assert link_of(portal).status == LinkStatus.UNLINKED
    assert text in PendingAuthorization.objects.get().message


@pytest.mark.parametrize(("endpoint", "kind"), [("identity", "server_error"), ("query", "rate_limited")])
def test_faults_after_the_grant_revoke_it(portal: Portal, endpoint, kind):
    from salesforce_emulator import faults

    started = portal.start()
    callback_url = portal.salesforce(started["Location"], "api@acme.example")
    faults.inject(endpoint, kind, times=1)
    portal.callback(callback_url)
    assert link_of(portal).status == LinkStatus.UNLINKED
    assert active_emulator_grants("api@acme.example") == 0
    assert not PendingRevoke.objects.exists()


def test_relink_failure_keeps_the_old_link_exactly(portal: Portal):
    portal.link("api@acme.example")
    before = SalesforceLink.objects.filter(account__slug=portal.slug).values().get()
    portal.link("noapi@acme.example")  # lacks API Enabled: refused
    assert SalesforceLink.objects.filter(account__slug=portal.slug).values().get() == before
    assert active_emulator_grants("noapi@acme.example") == 0
    assert active_emulator_grants("api@acme.example") == 1
    assert "API Enabled" in PendingAuthorization.objects.order_by("-created_at").first().message


def test_unlink_with_salesforce_down_unlinks_and_retries_later(portal: Portal):
    from django.core.management import call_command

    from salesforce_emulator import faults

    portal.link("api@acme.example")
    faults.inject("revoke", "server_error", times=1)
    response = portal.client.post(f"/accounts/{portal.slug}/crm-admin/salesforce/unlink/", follow=True)
    assert link_of(portal).status == LinkStatus.UNLINKED
    assert "could not be reached" in response.content.decode()
    assert PendingRevoke.objects.count() == 1 and active_emulator_grants("api@acme.example") == 1
    call_command("retry_pending_revokes")
    assert not PendingRevoke.objects.exists() and active_emulator_grants("api@acme.example") == 0


def test_popup_mode_ends_on_the_done_page_and_status_reports_the_outcome(portal: Portal):
    import uuid

    ref = uuid.uuid4()
    started = portal.client.post(
        f"/accounts/{portal.slug}/crm-admin/salesforce/link/",
        {"org_type": "production", "display": "popup", "client_ref": str(ref)},
    )
    assert started["Cross-Origin-Opener-Policy"] == "unsafe-none"
    status_url = f"/accounts/{portal.slug}/crm-admin/salesforce/attempts/status/?ref={ref}"
    assert portal.client.get(status_url).json()["status"] == "pending"
    response = portal.callback(portal.salesforce(started["Location"], "api@acme.example"))
    done_url = response["Location"]
    assert "/attempts/" in done_url and "code" not in done_url
    done = portal.client.get(done_url)
    assert done["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert "Linked to Salesforce" in done.content.decode()
    status = portal.client.get(status_url).json()
    assert status["status"] == "linked" and status["final"] is True
    assert "api@acme.example" in status["credentials_html"]
    assert "gAAAAA" not in status["credentials_html"]


def test_login_hint_is_prefilled_at_salesforce(portal: Portal):
    import requests

    started = portal.start(login_hint="api3@acme.example")
    assert query(started["Location"])["login_hint"] == "api3@acme.example"
    assert 'value="api3@acme.example"' in requests.get(started["Location"], timeout=10).text
