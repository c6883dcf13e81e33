"""The fault matrix over real HTTP against the emulator (issue 11): a revoke that fails in any way leaves the
grant queued in the ``PendingRevoke`` outbox, encrypted, until Salesforce confirms; a database error in the
middle of a link rolls the step back and revokes the grant it obtained (checklist H3; reference §11)."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from crm_admin import crypto
from crm_admin.models import (
    AuthorizationOutcome,
    LinkEvent,
    LinkEventAction,
    LinkStatus,
    PendingAuthorization,
    PendingRevoke,
    SalesforceLink,
    SalesforceToken,
)
from crm_admin.services import links as link_services
from tests.crm_admin.integration.conftest import Portal

pytestmark = pytest.mark.django_db(transaction=True)

REVOKE_FAULTS = ["timeout", "server_error", "malformed_json", "rate_limited"]


def live_grants(username: str) -> list[str]:
    """The emulator's unrevoked refresh tokens of a user, as their SHA-256 digests."""
    from salesforce_emulator.models import RefreshToken

    return list(
        RefreshToken.objects.filter(user__username=username, revoked_at__isnull=True).values_list(
            "token_hash", flat=True
        )
    )


def digest(token: str) -> str:
    from salesforce_emulator.tokens import digest as emulator_digest

    return emulator_digest(token)


def stored_refresh_token(portal: Portal) -> str:
    link = SalesforceLink.objects.select_related("token").get(account__slug=portal.slug)
    return crypto.decrypt(link.token.refresh_token_encrypted)


def portal_rows_text() -> str:
    """Every row of every portal table, as text: where a plaintext token must never appear."""
    return "\n".join(str(list(model.objects.values())) for model in apps.get_app_config("crm_admin").get_models())


def assert_queued_encrypted(token: str) -> PendingRevoke:
    pending = PendingRevoke.objects.get()
    assert pending.token_encrypted.startswith("gAAAAA")
    assert crypto.decrypt(pending.token_encrypted) == token
    assert pending.attempts == 1 and pending.last_error
    assert token not in portal_rows_text()
    return pending


def inject_revoke_fault(settings, kind: str) -> None:
    from salesforce_emulator import faults

    settings.SALESFORCE_READ_TIMEOUT = 1.0
    faults.inject("revoke", kind, delay=3 if kind == "timeout" else None)


def retry_until_revoked(token: str, username: str) -> None:
    """The outbox's retry revokes the grant at Salesforce and empties itself: the grant was never lost."""
    call_command("retry_pending_revokes", stdout=io.StringIO())
    assert not PendingRevoke.objects.exists()
    assert digest(token) not in live_grants(username)


# --- Revoke failures leave no lost grant ------------------------------------------------------------------


@pytest.mark.parametrize("kind", REVOKE_FAULTS)
def test_unlink_with_a_failing_revoke_keeps_the_grant_queued(portal: Portal, settings, kind):
    portal.link("api@acme.example")
    token = stored_refresh_token(portal)
    inject_revoke_fault(settings, kind)

    response = portal.client.post(f"/accounts/{portal.slug}/crm-admin/salesforce/unlink/", follow=True)

    assert SalesforceLink.objects.get(account__slug=portal.slug).status == LinkStatus.UNLINKED
    assert "could not be reached" in response.content.decode()
    assert_queued_encrypted(token)
    retry_until_revoked(token, "api@acme.example")


@pytest.mark.parametrize("kind", REVOKE_FAULTS)
def test_relink_with_a_failing_revoke_keeps_the_old_grant_queued(portal: Portal, settings, kind):
    portal.link("api@acme.example")
    old_token = stored_refresh_token(portal)
    inject_revoke_fault(settings, kind)

    portal.link("api2@acme.example")

    link = SalesforceLink.objects.get(account__slug=portal.slug)
    assert link.status == LinkStatus.LINKED and link.api_username == "api2@acme.example"
    assert_queued_encrypted(old_token)
    retry_until_revoked(old_token, "api@acme.example")
    assert len(live_grants("api2@acme.example")) == 1  # the new link's grant is untouched


@pytest.mark.parametrize("kind", REVOKE_FAULTS)
def test_a_refused_link_with_a_failing_revoke_keeps_the_orphan_grant_queued(portal: Portal, settings, kind):
    inject_revoke_fault(settings, kind)

    portal.link("noapi@acme.example")  # lacks API Enabled: refused after Salesforce granted access

    assert SalesforceLink.objects.get(account__slug=portal.slug).status == LinkStatus.UNLINKED
    assert PendingAuthorization.objects.get().outcome == AuthorizationOutcome.REFUSED
    pending = PendingRevoke.objects.get()
    orphan = crypto.decrypt(pending.token_encrypted)
    assert digest(orphan) in live_grants("noapi@acme.example") or kind == "timeout"
    assert_queued_encrypted(orphan)
    retry_until_revoked(orphan, "noapi@acme.example")


# --- A database error in the middle of a link ------------------------------------------------------------


def fail_with_a_database_error(**kwargs) -> None:
    """Stand in for a step inside the link transaction: run SQL the database refuses."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM crm_admin_salesforcelink")


def test_a_database_error_mid_link_rolls_back_and_revokes_the_orphan_grant(portal: Portal, monkeypatch):
    # After the link row is saved inside _link_commit's transaction, before its audit row.
    monkeypatch.setattr(link_services, "api_user_link_counts_refresh", fail_with_a_database_error)

    response = portal.link("api@acme.example")

    assert response.status_code == 302
    link = SalesforceLink.objects.get(account__slug=portal.slug)
    assert link.status == LinkStatus.UNLINKED and link.token_id is None and link.api_user_id is None
    assert not SalesforceToken.objects.exists()
    assert not LinkEvent.objects.filter(action__in=[LinkEventAction.LINKED, LinkEventAction.RELINKED]).exists()
    attempt = PendingAuthorization.objects.get()
    assert attempt.outcome == AuthorizationOutcome.FAILED
    assert LinkEvent.objects.get().action == LinkEventAction.FAILED
    assert live_grants("api@acme.example") == []  # the grant Salesforce issued was revoked
    assert not PendingRevoke.objects.exists()


def test_a_database_error_mid_relink_keeps_the_old_link_and_revokes_only_the_new_grant(portal: Portal, monkeypatch):
    portal.link("api@acme.example")
    before = SalesforceLink.objects.filter(account__slug=portal.slug).values().get()
    old_token = stored_refresh_token(portal)
    monkeypatch.setattr(link_services, "api_user_link_counts_refresh", fail_with_a_database_error)

    portal.link("api2@acme.example")

    assert SalesforceLink.objects.filter(account__slug=portal.slug).values().get() == before
    assert stored_refresh_token(portal) == old_token
    assert live_grants("api@acme.example") == [digest(old_token)]  # the working link's grant is kept
    assert live_grants("api2@acme.example") == []  # the orphan is revoked
    assert not PendingRevoke.objects.exists()
    assert PendingAuthorization.objects.order_by("-created_at").first().outcome == AuthorizationOutcome.FAILED
