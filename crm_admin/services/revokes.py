"""Revoking grants at Salesforce through the ``PendingRevoke`` outbox.

Whoever orphans a grant (unlink, relink, a refused or failed link) writes a ``PendingRevoke`` in the
same transaction, then calls ``pending_revoke_attempt`` after commit. A grant Salesforce could not be
told about stays in the outbox with its next attempt pushed back exponentially (with jitter, up to
``REVOKE_RETRY_MAX``); the scheduler hands due ones to the task worker (``services.scheduling``), and
``retry_pending_revokes`` tries them all at once. None is forgotten (reference §11).
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from crm_admin import crypto
from crm_admin.exceptions import LinkError
from crm_admin.models import Account, PendingRevoke, RevokeReason
from crm_admin.salesforce import SalesforceClient

logger = logging.getLogger(__name__)


def pending_revoke_create(*, token: str, org_type: str, reason: RevokeReason, account: Account | None) -> PendingRevoke:
    """Queue a plaintext token for revocation, encrypted (call inside the transaction that orphans it)."""
    return PendingRevoke.objects.create(
        token_encrypted=crypto.encrypt(token), org_type=org_type, reason=reason, account=account
    )


def pending_revoke_attempt(*, pending_revoke_id: int) -> bool:
    """Revoke one queued grant at Salesforce; return whether it is gone (deleting the outbox row)."""
    pending = PendingRevoke.objects.filter(pk=pending_revoke_id).first()
    if pending is None:
        return True
    try:
        token = crypto.decrypt(pending.token_encrypted)
        SalesforceClient.for_org_type(pending.org_type).revoke(token=token)
    except crypto.InvalidToken:
        error = "The stored token cannot be decrypted with the configured keys."
    except LinkError as failure:
        error = failure.user_message
    else:
        pending.delete()
        logger.info(
            "Revoked a grant at Salesforce (pending revoke #%s, %s)", pending_revoke_id, pending.get_reason_display()
        )
        return True
    now = timezone.now()
    PendingRevoke.objects.filter(pk=pending.pk).update(
        attempts=F("attempts") + 1,
        last_attempt_at=now,
        last_error=error[:255],
        next_attempt_at=now + revoke_backoff(attempts=pending.attempts + 1),
    )
    logger.warning("Could not revoke pending revoke #%s; it stays queued", pending_revoke_id)
    return False


def revoke_backoff(*, attempts: int) -> timedelta:
    """Return the delay after the ``attempts``-th failure: base * 2^(attempts-1), capped, upper half jittered.

    "Equal jitter": half the exponential delay is kept and half drawn at random, so retries spread out
    after an outage yet never come sooner than half the nominal delay.
    """
    base = settings.REVOKE_RETRY_BASE.total_seconds()
    cap = settings.REVOKE_RETRY_MAX.total_seconds()
    nominal = min(cap, base * 2 ** min(max(attempts - 1, 0), 32))
    return timedelta(seconds=nominal / 2 + random.uniform(0, nominal / 2))


@task()
def pending_revoke_attempt_task(pending_revoke_id: int) -> bool:
    """Run ``pending_revoke_attempt`` in the worker."""
    return pending_revoke_attempt(pending_revoke_id=pending_revoke_id)


def pending_revokes_retry() -> tuple[int, int]:
    """Try every queued revoke once; return (revoked, still queued)."""
    revoked = failed = 0
    for pending_id in PendingRevoke.objects.order_by("created_at").values_list("pk", flat=True):
        if pending_revoke_attempt(pending_revoke_id=pending_id):
            revoked += 1
        else:
            failed += 1
    return revoked, failed
