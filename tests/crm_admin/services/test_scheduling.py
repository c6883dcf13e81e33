from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm_admin import crypto, exceptions
from crm_admin.models import LinkStatus, PendingRevoke, RevokeReason, SalesforceLink
from crm_admin.services import scheduling
from crm_admin.services.revokes import pending_revoke_attempt, revoke_backoff
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def test_new_links_are_spread_over_the_interval_not_checked_at_once(settings, fake_sf):
    api_user = ApiUserFactory()
    links = [make_linked(AccountFactory(), api_user) for _ in range(5)]
    now = timezone.now()
    result = scheduling.scheduler_run(now=now)
    assert result.placed == 5
    due = [SalesforceLink.objects.get(pk=link.pk).next_check_at for link in links]
    assert all(now <= at <= now + settings.HEALTH_CHECK_INTERVAL for at in due)
    assert len(set(due)) == 5


def test_due_links_are_enqueued_once_and_rescheduled_an_interval_later(account, settings, fake_sf):
    link = make_linked(account, ApiUserFactory())
    now = timezone.now()
    SalesforceLink.objects.filter(pk=link.pk).update(next_check_at=now - timedelta(seconds=1))
    assert scheduling.link_checks_enqueue_due(now=now) == 1
    assert scheduling.link_checks_enqueue_due(now=now) == 0  # a second scheduler finds nothing due
    assert fake_sf.called("refresh") == 1  # the immediate backend ran the check
    following = SalesforceLink.objects.get(pk=link.pk).next_check_at
    interval = settings.HEALTH_CHECK_INTERVAL
    assert now + interval * 0.95 <= following <= now + interval * 1.05


def test_a_claim_lost_to_another_scheduler_enqueues_nothing(account, fake_sf, monkeypatch):
    link = make_linked(account, ApiUserFactory())
    now = timezone.now()
    SalesforceLink.objects.filter(pk=link.pk).update(next_check_at=now - timedelta(seconds=1))

    def other_scheduler_claims_first(low: float, high: float) -> float:
        # Runs between this scheduler's read of the due links and its conditional claim.
        SalesforceLink.objects.filter(pk=link.pk).update(next_check_at=now + timedelta(hours=6))
        return 1.0

    monkeypatch.setattr(scheduling.random, "uniform", other_scheduler_claims_first)
    assert scheduling.link_checks_enqueue_due(now=now) == 0
    assert fake_sf.calls == []
    assert SalesforceLink.objects.get(pk=link.pk).next_check_at == now + timedelta(hours=6)


def test_unlinked_links_are_never_scheduled(account):
    SalesforceLink.objects.filter(account=account).update(next_check_at=timezone.now() - timedelta(days=1))
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.UNLINKED
    assert scheduling.scheduler_run().checks == 0


def queued(account, token="orphan") -> PendingRevoke:
    return PendingRevoke.objects.create(
        token_encrypted=crypto.encrypt(token), org_type="production", reason=RevokeReason.UNLINK, account=account
    )


def test_failed_revoke_backs_off_exponentially_with_jitter_up_to_the_cap(account, fake_sf, settings):
    settings.REVOKE_RETRY_BASE = timedelta(seconds=10)
    settings.REVOKE_RETRY_MAX = timedelta(seconds=60)
    fake_sf.fail["revoke"] = exceptions.SalesforceUnavailableError()
    pending = queued(account)
    delays = []
    for _ in range(5):
        assert pending_revoke_attempt(pending_revoke_id=pending.pk) is False
        pending.refresh_from_db()
        delays.append((pending.next_attempt_at - pending.last_attempt_at).total_seconds())
    for attempt, (delay, nominal) in enumerate(zip(delays, [10, 20, 40, 60, 60], strict=True), start=1):
        assert nominal / 2 <= delay <= nominal, (attempt, delay)
    assert pending.attempts == 5 and "did not answer" in pending.last_error


def test_backoff_is_jittered():
    assert len({revoke_backoff(attempts=3) for _ in range(20)}) > 1


def test_due_revokes_are_handed_to_the_worker_and_revoked(account, fake_sf):
    pending = queued(account, token="orphan-1")
    now = timezone.now()
    assert scheduling.pending_revokes_enqueue_due(now=now + timedelta(seconds=1)) == 1
    assert fake_sf.revoked == ["orphan-1"]
    assert not PendingRevoke.objects.filter(pk=pending.pk).exists()


def test_revokes_not_yet_due_wait(account, fake_sf):
    pending = queued(account)
    PendingRevoke.objects.filter(pk=pending.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert scheduling.pending_revokes_enqueue_due(now=timezone.now()) == 0
    assert fake_sf.revoked == []


def test_a_grant_salesforce_calls_invalid_counts_as_revoked(account, emulator_less_revoke_invalid):
    pending = queued(account, token="already-gone")
    assert pending_revoke_attempt(pending_revoke_id=pending.pk) is True
    assert not PendingRevoke.objects.filter(pk=pending.pk).exists()


@pytest.fixture
def emulator_less_revoke_invalid():
    """Salesforce answers 400 invalid_token (reference §6)."""
    import responses
    from django.conf import settings

    with responses.RequestsMock() as mock:
        mock.post(
            settings.SALESFORCE_PRODUCTION_LOGIN_URL + "/services/oauth2/revoke",
            json={"error": "invalid_token", "error_description": "invalid token"},
            status=400,
        )
        yield mock
