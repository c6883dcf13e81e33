"""The scheduler: hand due link health checks and due revoke retries to the task worker.

Run by ``manage.py run_scheduler`` from a cron job or systemd timer (or in a loop under ``make run``).
Several schedulers may run at once: each due row is claimed with one conditional ``UPDATE`` that moves
its due time forward only if nobody moved it first, and only the winner enqueues its task.

Health checks are spread over the interval: a link with no due time yet gets a random one within the
next interval (no thundering herd after a deploy or a migration), and each claim sets the next due time
one interval later, ±5 %.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from crm_admin.models import LinkStatus, PendingRevoke, SalesforceLink
from crm_admin.services.health import link_check_task
from crm_admin.services.revokes import pending_revoke_attempt_task

logger = logging.getLogger(__name__)

#: How much one scheduler pass hands out at most (the rest waits for the next pass).
BATCH_SIZE = 1000
#: A claimed revoke waits this long before another pass may claim it again (its worker died, say).
REVOKE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class SchedulerPass:
    placed: int  # links given their first due time
    checks: int  # health checks enqueued
    revokes: int  # revoke retries enqueued


def scheduler_run(*, now: datetime | None = None) -> SchedulerPass:
    """Do one pass: place new links in the interval, enqueue due checks and due revoke retries."""
    now = now or timezone.now()
    placed = link_checks_place(now=now)
    checks = link_checks_enqueue_due(now=now)
    revokes = pending_revokes_enqueue_due(now=now)
    return SchedulerPass(placed=placed, checks=checks, revokes=revokes)


def link_checks_place(*, now: datetime) -> int:
    """Give each Linked link without a due time a random one within the next interval."""
    interval = settings.HEALTH_CHECK_INTERVAL.total_seconds()
    unplaced = SalesforceLink.objects.filter(status=LinkStatus.LINKED, next_check_at__isnull=True)
    placed = 0
    for link_id in list(unplaced.values_list("pk", flat=True)[:BATCH_SIZE]):
        due = now + timedelta(seconds=random.uniform(0, interval))
        placed += SalesforceLink.objects.filter(pk=link_id, next_check_at__isnull=True).update(next_check_at=due)
    return placed


def link_checks_enqueue_due(*, now: datetime) -> int:
    """Claim every Linked link whose check is due and enqueue its health check."""
    interval = settings.HEALTH_CHECK_INTERVAL.total_seconds()
    due = (
        SalesforceLink.objects.filter(status=LinkStatus.LINKED, next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", "next_check_at")[:BATCH_SIZE]
    )
    enqueued = 0
    for link_id, due_at in list(due):
        following = now + timedelta(seconds=interval * random.uniform(0.95, 1.05))
        if not SalesforceLink.objects.filter(pk=link_id, next_check_at=due_at).update(next_check_at=following):
            continue  # another scheduler claimed it
        try:
            link_check_task.enqueue(link_id=link_id)
        except Exception:
            SalesforceLink.objects.filter(pk=link_id, next_check_at=following).update(next_check_at=due_at)
            raise
        enqueued += 1
    return enqueued


def pending_revokes_enqueue_due(*, now: datetime) -> int:
    """Claim every queued revoke whose next attempt is due and enqueue the attempt."""
    due = (
        PendingRevoke.objects.filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:BATCH_SIZE]
    )
    enqueued = 0
    for pending_id, due_at in list(due):
        claimed_until = now + REVOKE_CLAIM
        if not PendingRevoke.objects.filter(pk=pending_id, next_attempt_at=due_at).update(
            next_attempt_at=claimed_until
        ):
            continue
        try:
            pending_revoke_attempt_task.enqueue(pending_revoke_id=pending_id)
        except Exception:
            PendingRevoke.objects.filter(pk=pending_id, next_attempt_at=claimed_until).update(next_attempt_at=due_at)
            raise
        enqueued += 1
    return enqueued
