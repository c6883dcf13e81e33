"""Health checks and revoke retries run by real worker and scheduler processes against the emulator over HTTP."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.utils import timezone

from crm_admin import crypto
from crm_admin.models import LinkEvent, LinkHealth, PendingRevoke, SalesforceLink, SalesforceToken
from crm_admin.services.health import link_check_task
from tests.crm_admin.integration.conftest import Portal
from tests.crm_admin.integration.workers import (
    DATABASE_BACKEND,
    REDIS_BACKEND,
    Process,
    manage,
    process_env,
    start_worker,
    wait_for_tasks,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

API_USER = "api@acme.example"
REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}


def linked(portal: Portal, username: str = API_USER) -> SalesforceLink:
    assert portal.link(username).status_code == 302
    return SalesforceLink.objects.get(account__slug=portal.slug)


def revoke_in_salesforce(username: str) -> None:
    """What an org admin does in Setup → Connected Apps OAuth Usage → Revoke."""
    from salesforce_emulator.models import AccessToken, RefreshToken

    now = timezone.now()
    RefreshToken.objects.filter(user__username=username, revoked_at__isnull=True).update(revoked_at=now)
    AccessToken.objects.filter(user__username=username, revoked_at__isnull=True).update(revoked_at=now)


def refreshes_at_salesforce(username: str) -> int:
    """Access tokens issued from the user's refresh tokens: one per refresh (plus the code exchange's)."""
    from salesforce_emulator.models import AccessToken

    return AccessToken.objects.filter(refresh_token__user__username=username).count()


def set_permission(username: str, name: str, value: bool) -> None:
    from salesforce_emulator.models import SalesforceUser

    user = SalesforceUser.objects.get(username=username)
    user.permissions[name] = value
    user.save(update_fields=["permissions"])


def check_in_worker(link: SalesforceLink) -> str:
    result = link_check_task.enqueue(link_id=link.pk)
    return wait_for_tasks([result.id])[0].return_value


def test_scheduled_check_finds_a_revoked_grant_and_the_page_shows_it(portal, settings, emulator, admin_user):
    admin_user.email = "admin@acme.example"
    admin_user.save()
    link = linked(portal)
    revoke_in_salesforce(API_USER)
    SalesforceLink.objects.filter(pk=link.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))
    env = process_env(settings, emulator)

    scheduled = manage(env, "run_scheduler")
    assert scheduled.returncode == 0, scheduled.stderr
    assert "enqueued 1 health check(s)" in scheduled.stdout
    worked = manage(env, "run_worker", "--burst", "--no-reload")
    assert worked.returncode == 0, worked.stderr

    link.refresh_from_db()
    assert link.needs_attention and link.attention_code == "grant_revoked" and link.health == LinkHealth.ATTENTION
    page = portal.page()
    assert "Needs attention" in page and "Salesforce revoked this link" in page and "Relink" in page
    # The worker also sent the admins' email (console backend in development).
    assert "Action needed: the Salesforce link of Acme Contact Center" in worked.stdout
    assert "admin@acme.example" in worked.stdout


def test_temporary_outage_keeps_a_healthy_link_healthy_and_recovery_is_automatic(
    portal, settings, emulator, database_queue, processes
):
    from salesforce_emulator import faults

    link = linked(portal)
    start_worker(processes, process_env(settings, emulator))
    assert check_in_worker(link) == "healthy"

    faults.inject("token", "server_error")
    assert check_in_worker(link) == "unknown"
    faults.inject("query", "rate_limited")
    assert check_in_worker(link) == "unknown"
    link.refresh_from_db()
    assert link.health == LinkHealth.HEALTHY and not link.needs_attention and link.health_failing_since

    set_permission(API_USER, "PermissionsEditTask", False)
    assert check_in_worker(link) == "attention"
    link.refresh_from_db()
    assert link.attention_code == "missing_permissions" and "Edit Tasks" in link.attention_reason
    set_permission(API_USER, "PermissionsEditTask", True)
    assert check_in_worker(link) == "healthy"
    link.refresh_from_db()
    assert not link.needs_attention and link.health_failing_since is None
    actions = list(LinkEvent.objects.filter(account=link.account).order_by("pk").values_list("action", flat=True))
    assert actions == ["linked", "healthy", "attention", "healthy"]


def test_two_workers_never_check_one_link_at_the_same_time(portal, settings, emulator, database_queue, processes):
    from salesforce_emulator import faults

    link = linked(portal)
    env = process_env(settings, emulator)
    start_worker(processes, env)
    start_worker(processes, env)
    before = refreshes_at_salesforce(API_USER)
    faults.inject("token", "timeout", delay=4)  # the first check's refresh takes 4 s (within the read timeout)
    with transaction.atomic():  # both tasks become visible to the workers at once
        results = [link_check_task.enqueue(link_id=link.pk) for _ in range(2)]
    rows = wait_for_tasks([result.id for result in results])
    assert sorted(row.return_value for row in rows) == ["busy", "healthy"]
    assert rows[0].worker_ids != rows[1].worker_ids  # each worker ran one
    assert refreshes_at_salesforce(API_USER) == before + 1


def test_worker_retries_a_failed_unlink_revoke_with_backoff_until_salesforce_confirms(
    portal, settings, emulator, database_queue, processes
):
    from salesforce_emulator import faults
    from salesforce_emulator.models import RefreshToken

    settings.REVOKE_RETRY_BASE = timedelta(seconds=1)
    link = linked(portal)
    faults.inject("revoke", "server_error", times=3)
    response = portal.client.post(f"/accounts/{portal.slug}/crm-admin/salesforce/unlink/", follow=True)
    assert "will be retried until Salesforce confirms it" in response.content.decode()
    assert SalesforceLink.objects.get(pk=link.pk).status == "unlinked"
    pending = PendingRevoke.objects.get()
    assert pending.attempts == 1 and pending.next_attempt_at > pending.last_attempt_at

    env = process_env(settings, emulator, REVOKE_RETRY_BASE_SECONDS="1")
    start_worker(processes, env)
    processes.append(Process(env, "run_scheduler", "--loop", "0.2"))
    attempts: dict[int, tuple] = {1: (pending.last_attempt_at, pending.next_attempt_at)}

    def revoked():
        row = PendingRevoke.objects.filter(pk=pending.pk).values_list("attempts", "last_attempt_at", "next_attempt_at")
        current = row.first()
        if current is None:
            return timezone.now()
        if current[0] not in attempts and current[2] > current[1]:
            attempts[current[0]] = current[1:]
        return None

    done_at = wait_until(revoked, what="the grant to be revoked")
    assert not RefreshToken.objects.filter(user__username=API_USER, revoked_at__isnull=True).exists()
    assert faults.live() == []  # three failures, then success
    assert sorted(attempts) == [1, 2, 3]
    # Each retry waited at least half its nominal delay: 1 s, 2 s, then 4 s after the third failure.
    for attempt, nominal in ((1, 1), (2, 2)):
        assert attempts[attempt + 1][0] - attempts[attempt][0] >= timedelta(seconds=nominal / 2)
    assert done_at - attempts[3][0] >= timedelta(seconds=2)


def redis_available() -> bool:
    host = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((host.hostname, host.port), timeout=1):
            return True
    except OSError:
        return False


def test_the_queue_runs_on_redis_by_configuration_alone(portal, settings, emulator):
    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI needs it")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # database 5 is this suite's own
    link = linked(portal)
    revoke_in_salesforce(API_USER)
    SalesforceLink.objects.filter(pk=link.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))
    env = process_env(settings, emulator, TASKS_BACKEND=REDIS_BACKEND, TASKS_REDIS_URL=REDIS_URL)

    scheduled = manage(env, "run_scheduler")
    assert scheduled.returncode == 0, scheduled.stderr
    assert redis.Redis.from_url(REDIS_URL).llen("rq:queue:default") == 1
    worked = manage(env, "run_worker", "--burst")
    assert worked.returncode == 0, worked.stdout + worked.stderr
    link.refresh_from_db()
    assert link.attention_code == "grant_revoked"


@pytest.mark.parametrize("fault", ["timeout", "server_error", "malformed_json", "rate_limited"])
@pytest.mark.parametrize("rotation", [False, True], ids=["no-rotation", "rotation"])
def test_refresh_failures_over_http_lose_no_grant(portal, settings, emulator, fault, rotation):
    """Issue 11's fault matrix for refresh: the grant is kept, nothing flips, nothing plaintext is stored."""
    from crm_admin.services.health import CheckOutcome, link_check_health
    from salesforce_emulator import faults
    from salesforce_emulator.seed import refresh_token_rotation

    refresh_token_rotation(rotation)
    settings.SALESFORCE_READ_TIMEOUT = 1
    link = linked(portal)
    assert link_check_health(link_id=link.pk) is CheckOutcome.HEALTHY
    token = SalesforceToken.objects.get(pk=link.token_id)
    kept = crypto.decrypt(token.refresh_token_encrypted)

    faults.inject("token", fault, delay=2 if fault == "timeout" else None)
    assert link_check_health(link_id=link.pk) is CheckOutcome.UNKNOWN
    link.refresh_from_db()
    token.refresh_from_db()
    assert link.health == LinkHealth.HEALTHY and not link.needs_attention
    assert crypto.decrypt(token.refresh_token_encrypted) == kept
    assert kept not in token.refresh_token_encrypted and "!" not in token.access_token_encrypted

    settings.SALESFORCE_READ_TIMEOUT = 15
    assert link_check_health(link_id=link.pk) is CheckOutcome.HEALTHY  # the grant still works
