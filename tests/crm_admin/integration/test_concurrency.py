"""The five-accounts rule under concurrency: twelve admins complete their callbacks at the same moment
for twelve accounts with the same Salesforce API user (checklist G1, G2, G5)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from crm_admin import crypto
from crm_admin.exceptions import SalesforceSessionInvalidError
from crm_admin.models import (
    AuthorizationOutcome,
    LinkStatus,
    PendingAuthorization,
    PendingRevoke,
    SalesforceLink,
)
from tests.conftest import logged_in
from tests.crm_admin.integration.conftest import Portal
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPTS = 12
API_USER = "api5@acme.example"


def test_twelve_simultaneous_callbacks_link_exactly_five(emulator, capsys):
    from salesforce_emulator.models import RefreshToken
    from salesforce_emulator.tokens import digest

    portals = []
    for n in range(ATTEMPTS):
        account = AccountFactory(slug=f"race-{n}")
        admin = UserFactory(username=f"race-admin-{n}", role="admin")
        account.members.add(admin)
        portals.append(Portal(client=logged_in(admin), slug=account.slug))
    # Everyone logs in to Salesforce and clicks Allow first; only the callbacks race.
    callbacks = [p.salesforce(p.start()["Location"], API_USER) for p in portals]
    barrier = threading.Barrier(ATTEMPTS)

    def complete(pair: tuple[Portal, str]) -> int:
        portal, callback_url = pair
        try:
            barrier.wait(timeout=30)
            return portal.callback(callback_url).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        statuses = list(pool.map(complete, zip(portals, callbacks, strict=True)))

    assert statuses == [302] * ATTEMPTS
    outcomes = list(PendingAuthorization.objects.values_list("outcome", flat=True))
    linked = SalesforceLink.objects.filter(status=LinkStatus.LINKED, api_username=API_USER).select_related("token")
    refused = PendingAuthorization.objects.filter(outcome=AuthorizationOutcome.REFUSED)
    # Salesforce's own rule (reference §11) revokes the oldest approvals while the exchanges race, so an
    # attempt whose fresh session was already revoked fails before it can even be refused.
    failed = PendingAuthorization.objects.filter(outcome=AuthorizationOutcome.FAILED)
    assert linked.count() == 5
    assert outcomes.count(AuthorizationOutcome.LINKED) == 5
    assert refused.count() + failed.count() == ATTEMPTS - 5
    assert refused.count() >= 1
    assert sorted(link.slot for link in linked) == [1, 2, 3, 4, 5]
    for message in refused.values_list("message", flat=True):
        assert "already linked to 5 VCC accounts" in message
    for message in failed.values_list("message", flat=True):
        assert message == SalesforceSessionInvalidError.user_message

    # Every refused grant was revoked at the emulator: the only live grants are ones a Linked link holds.
    held = {digest(crypto.decrypt(link.token.refresh_token_encrypted)) for link in linked}
    grants = RefreshToken.objects.filter(user__username=API_USER)
    live = set(grants.filter(revoked_at__isnull=True).values_list("token_hash", flat=True))
    assert grants.count() == ATTEMPTS
    assert live <= held
    assert not PendingRevoke.objects.exists()
    with capsys.disabled():
        print(
            f"\nconcurrency ({connection.vendor}): attempts={ATTEMPTS} linked={linked.count()} "
            f"refused={refused.count()} failed_session_revoked={failed.count()} "
            f"revoked_at_emulator={grants.count() - len(live)} live_grants={len(live)}"
        )
