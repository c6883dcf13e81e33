"""Link health: does Salesforce still honour a link's grant?

Salesforce revokes a user's oldest approval silently when a sixth is created (reference §11); the
holder learns only when a refresh fails with ``invalid_grant``. A refresh here answers the question
without keeping the access token it yields.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from crm_admin import crypto
from crm_admin.exceptions import LinkError, SalesforceOAuthError
from crm_admin.models import LinkEvent, LinkEventAction, LinkHealth, LinkStatus, SalesforceLink
from crm_admin.salesforce import SalesforceClient

logger = logging.getLogger(__name__)

REVOKED_REASON = (
    "Salesforce revoked this link's access. This usually happens when the API user was linked to a sixth "
    "VCC account: Salesforce keeps five approvals per user and drops the oldest. Relink, ideally with "
    "another API user."
)
UNREADABLE_REASON = "The stored Salesforce grant cannot be decrypted with the configured keys. Relink."


class Health(StrEnum):
    OK = "ok"
    REVOKED = "revoked"
    UNKNOWN = "unknown"  # Salesforce could not be asked; nothing changed


def link_check_health(*, link_id: int) -> Health:
    """Refresh the link's grant; mark the link as needing attention when Salesforce has revoked it.

    The refresh runs outside any transaction (no lock held over the network); the mark is written only
    if the link still holds the same token record, so a relink that raced it is never marked.
    """
    link = SalesforceLink.objects.filter(pk=link_id, status=LinkStatus.LINKED).select_related("token").first()
    if link is None or link.token is None:
        return Health.UNKNOWN
    token_id = link.token_id
    try:
        refresh_token = crypto.decrypt(link.token.refresh_token_encrypted)
    except crypto.InvalidToken:
        reason, code = UNREADABLE_REASON, "token_unreadable"
    else:
        try:
            SalesforceClient.for_org_type(link.org_type).refresh(refresh_token=refresh_token)
        except SalesforceOAuthError as failure:
            if failure.error != "invalid_grant":
                return Health.UNKNOWN
            reason, code = REVOKED_REASON, "grant_revoked"
        except LinkError:
            return Health.UNKNOWN
        else:
            return Health.OK
    with transaction.atomic(durable=True):
        current = SalesforceLink.objects.select_for_update().filter(pk=link_id, token_id=token_id).first()
        if current is None:
            return Health.UNKNOWN
        now = timezone.now()
        changed = current.attention_reason != reason
        current.health = LinkHealth.ATTENTION
        current.health_checked_at = now
        if changed:
            current.attention_reason = reason
            current.attention_code = code
            current.attention_since = now
        current.save(
            update_fields=[
                "attention_reason",
                "attention_code",
                "attention_since",
                "health",
                "health_checked_at",
                "updated_at",
            ]
        )
        if changed:
            LinkEvent.objects.create(
                account_id=current.account_id,
                action=LinkEventAction.REVOKED_BY_SALESFORCE,
                detail={"api_username": current.api_username, "org_type": current.org_type},
            )
    logger.warning("Salesforce link of account #%s needs attention", current.account_id)
    return Health.REVOKED


@task()
def api_user_links_check_task(api_user_id: int) -> dict[str, int]:
    """Check every Linked link of one API user (after a sixth approval was created for it)."""
    ids = SalesforceLink.objects.filter(api_user_id=api_user_id, status=LinkStatus.LINKED).values_list("pk", flat=True)
    counts: dict[str, int] = {}
    for link_id in list(ids):
        health = link_check_health(link_id=link_id)
        counts[health.value] = counts.get(health.value, 0) + 1
    return counts
