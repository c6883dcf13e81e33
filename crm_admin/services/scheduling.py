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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Model, QuerySet
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
    return _claim_and_enqueue(
        SalesforceLink.objects.filter(status=LinkStatus.LINKED),
        due_field="next_check_at",
        now=now,
        claim_until=lambda: now + timedelta(seconds=interval * random.uniform(0.95, 1.05)),
        enqueue=lambda link_id: link_check_task.enqueue(link_id=link_id),
    )


def pending_revokes_enqueue_due(*, now: datetime) -> int:
    """Claim every queued revoke whose next attempt is due and enqueue the attempt."""
    return _claim_and_enqueue(
        PendingRevoke.objects.all(),
        due_field="next_attempt_at",
        now=now,
        claim_until=lambda: now + REVOKE_CLAIM,
        enqueue=lambda pending_id: pending_revoke_attempt_task.enqueue(pending_revoke_id=pending_id),
    )


def _claim_and_enqueue(
    rows: QuerySet[Model],
    *,
    due_field: str,
    now: datetime,
    claim_until: Callable[[], datetime],
    enqueue: Callable[[int], object],
) -> int:
    """Claim each due row by moving its due time forward (only if nobody moved it first), then enqueue it.

    Should enqueueing fail, the claim is undone, so the row stays due for the next pass.
    """
    due = rows.filter(**{f"{due_field}__lte": now}).order_by(due_field).values_list("pk", due_field)[:BATCH_SIZE]
    enqueued = 0
    for pk, due_at in list(due):
        claimed = claim_until()
        if not rows.filter(pk=pk, **{due_field: due_at}).update(**{due_field: claimed}):
            continue  # another scheduler claimed it
        try:
            enqueue(pk)
        except Exception:
            rows.filter(pk=pk, **{due_field: claimed}).update(**{due_field: due_at})
            raise
        enqueued += 1
    return enqueued
