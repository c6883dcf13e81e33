"""Link health: does Salesforce still honour a link's grant, and may its API user still do VCC's work?

A check refreshes the grant (keeping a rotated refresh token), reads the identity URL and re-reads the
required permissions. Its finding is one of:

- **healthy**;
- **needs attention**, with a reason for the account's admins: grant revoked (``invalid_grant``; e.g. the
  sixth approval, reference §11), API user or org inactive, a required permission removed, the REST API
  disabled, or the stored grant unreadable with the configured keys;
- **temporary failure** (timeout, 5xx, malformed answer, rate limit): nothing is known. It never turns a
  healthy link into one that needs attention by itself; only failures lasting longer than
  ``HEALTH_CHECK_GRACE_PERIOD`` do. A link never checked successfully shows **unknown** meanwhile.

A link that needed attention recovers by itself when a later check is healthy. Every change of health
(or of the reason for attention) is one ``LinkEvent``; a check that changes nothing writes none. Turning
"needs attention" emails the account's admins (``notifications``), once per transition.

Checks of one grant never overlap: a check holds the grant's refresh lease (``grants``) throughout, and
a second check that finds it held reports ``busy`` and does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from crm_admin import crypto
from crm_admin.exceptions import (
    LinkError,
    SalesforceApiDisabledError,
    SalesforceOAuthError,
    SalesforceRateLimitedError,
    SalesforceResponseInvalidError,
    SalesforceSessionInvalidError,
    SalesforceUnavailableError,
)
from crm_admin.models import LinkEvent, LinkEventAction, LinkHealth, LinkStatus, SalesforceLink
from crm_admin.salesforce import SalesforceClient, permissions
from crm_admin.services import grants
from crm_admin.services.notifications import link_attention_notify_task

logger = logging.getLogger(__name__)

REVOKED_REASON = (
    "Salesforce revoked this link's access. This happens when the API user was linked to a sixth VCC "
    "account (Salesforce keeps five approvals per user and drops the oldest), or when someone revoked "
    "VCC's access in Salesforce. Relink, ideally with another API user."
)
UNREADABLE_REASON = "The stored Salesforce grant cannot be decrypted with the configured keys. Relink."
USER_INACTIVE_REASON = (
    "The Salesforce API user is inactive or frozen. Activate the user in Salesforce (the link recovers at "
    "the next check), or relink with another API user."
)
ORG_INACTIVE_REASON = (
    "The Salesforce org is locked, closed or suspended. Once the org is active again the link recovers at "
    "the next check; otherwise relink to another org."
)
API_DISABLED_REASON = (
    "Salesforce refuses VCC's API calls (API_DISABLED_FOR_ORG): the REST API is off for the org, or the API "
    "user lost API Enabled. Ask the org's administrator to enable API access; the link recovers at the next "
    "check."
)
#: ``SalesforceOAuthError.error`` at refresh → (attention code, reason). Others are temporary failures.
REFRESH_REFUSALS = {
    "invalid_grant": ("grant_revoked", REVOKED_REASON),
    "inactive_user": ("user_inactive", USER_INACTIVE_REASON),
    "inactive_org": ("org_inactive", ORG_INACTIVE_REASON),
}


class CheckOutcome(StrEnum):
    HEALTHY = "healthy"
    ATTENTION = "attention"
    UNKNOWN = "unknown"  # a temporary failure: Salesforce could not say
    BUSY = "busy"  # another process holds this grant's refresh lease
    SKIPPED = "skipped"  # not (or no longer) Linked to the same grant


@dataclass(frozen=True)
class Finding:
    """What one check found: healthy, attention (``code`` + ``reason``), or a temporary failure (``reason``)."""

    outcome: CheckOutcome
    code: str = ""
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


def finding_for_grant_failure(*, error: Exception) -> Finding:
    """Classify a failed refresh: a refusal that needs the admins, or a temporary failure."""
    if isinstance(error, crypto.InvalidToken):
        return Finding(CheckOutcome.ATTENTION, "token_unreadable", UNREADABLE_REASON)
    if isinstance(error, SalesforceOAuthError) and error.error in REFRESH_REFUSALS:
        code, reason = REFRESH_REFUSALS[error.error]
        return Finding(CheckOutcome.ATTENTION, code, reason)
    if isinstance(error, LinkError):
        return Finding(CheckOutcome.UNKNOWN, "", temporary_note(error=error))
    raise error


def temporary_note(*, error: LinkError) -> str:
    """Say in a few words why Salesforce could not answer (for the page and the support console)."""
    if isinstance(error, SalesforceRateLimitedError) or (
        isinstance(error, SalesforceOAuthError) and error.error == "rate_limit_exceeded"
    ):
        return "Salesforce's request limit was reached."
    if isinstance(error, SalesforceOAuthError):
        return f"Salesforce refused the refresh ({error.error[:40]})."
    if isinstance(error, SalesforceSessionInvalidError):
        return "Salesforce rejected the fresh session."
    if isinstance(error, SalesforceResponseInvalidError):
        return "Salesforce's answer failed verification."
    if isinstance(error, SalesforceUnavailableError):
        return "Salesforce did not answer in time, or answered with an error."
    return "Salesforce could not be asked."


def link_check_health(*, link_id: int) -> CheckOutcome:
    """Check one Linked link and record the result; ``busy`` when its grant is already being refreshed."""
    link = SalesforceLink.objects.filter(pk=link_id, status=LinkStatus.LINKED).select_related("account").first()
    if link is None or link.token_id is None:
        return CheckOutcome.SKIPPED
    owner = grants.grant_lease_claim(token_id=link.token_id)
    if owner is None:
        return CheckOutcome.BUSY
    try:
        finding = _examine(link)
    finally:
        grants.grant_lease_release(token_id=link.token_id, owner=owner)
    return link_health_record(link_id=link.pk, token_id=link.token_id, finding=finding)


def _examine(link: SalesforceLink) -> Finding:
    """Ask Salesforce (no transaction open): refresh, identity, permissions."""
    try:
        token = grants.grant_refresh(link=link).token
    except (crypto.InvalidToken, LinkError) as error:
        return finding_for_grant_failure(error=error)
    client = SalesforceClient.for_org_type(link.org_type)
    required = list(settings.SALESFORCE_REQUIRED_PERMISSIONS)
    fields = required + [name for name in permissions.RECOMMENDED if name not in required]
    try:
        identity = client.identity(id_url=token.id_url, access_token=token.access_token)
        if not identity.active:
            return Finding(CheckOutcome.ATTENTION, "user_inactive", USER_INACTIVE_REASON)
        granted = client.user_permissions(
            instance_url=token.instance_url, access_token=token.access_token, fields=fields
        )
    except SalesforceApiDisabledError:
        return Finding(CheckOutcome.ATTENTION, "api_disabled", API_DISABLED_REASON)
    except LinkError as error:
        return Finding(CheckOutcome.UNKNOWN, "", temporary_note(error=error))
    missing = [permissions.label(name) for name in required if not granted.get(name)]
    if missing:
        return Finding(
            CheckOutcome.ATTENTION,
            "missing_permissions",
            f"The API user no longer has required permissions: {', '.join(missing)}. Assign the "
            '"ContactWorld API user" permission set to the user in Salesforce; the link recovers at the next check.',
        )
    warnings = [permissions.label(name) for name in fields if name not in required and not granted.get(name)]
    return Finding(CheckOutcome.HEALTHY, warnings=warnings)


def link_health_record(*, link_id: int, token_id: int, finding: Finding) -> CheckOutcome:
    """Record a finding on the link, if it still holds the grant that was checked; audit a change of health.

    Returns the finding's outcome, or ``attention`` when the link needs attention after it (a temporary
    failure beyond the grace period, or on a link that already needed attention).
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        link = (
            SalesforceLink.objects.select_for_update()
            .select_related("account")
            .filter(pk=link_id, token_id=token_id, status=LinkStatus.LINKED)
            .first()
        )
        if link is None:
            return CheckOutcome.SKIPPED  # unlinked or relinked meanwhile: this finding is about an old grant
        before = (link.health, link.attention_code, link.attention_reason)
        if finding.outcome == CheckOutcome.UNKNOWN:
            _record_temporary_failure(link, finding, now)
        elif finding.outcome == CheckOutcome.ATTENTION:
            _set_attention(link, code=finding.code, reason=finding.reason, now=now)
        else:
            _set_healthy(link, warnings=finding.warnings)
        link.health_checked_at = now
        link.save(
            update_fields=[
                "health",
                "health_checked_at",
                "health_failing_since",
                "health_note",
                "attention_code",
                "attention_reason",
                "attention_since",
                "permission_warnings",
                "next_check_at",
                "updated_at",
            ]
        )
        if (link.health, link.attention_code, link.attention_reason) != before:
            _audit_transition(link, previous_health=before[0])
    return CheckOutcome.ATTENTION if link.health == LinkHealth.ATTENTION else finding.outcome


def _record_temporary_failure(link: SalesforceLink, finding: Finding, now: datetime) -> None:
    link.health_failing_since = link.health_failing_since or now
    link.health_note = finding.reason[:255]
    retry_at = now + settings.HEALTH_CHECK_RETRY_INTERVAL
    if link.next_check_at is None or link.next_check_at > retry_at:
        link.next_check_at = retry_at
    if link.health == LinkHealth.ATTENTION:
        return  # only a conclusive answer clears it
    if now - link.health_failing_since >= settings.HEALTH_CHECK_GRACE_PERIOD:
        reason = (
            f"Salesforce has not answered VCC's health checks since {link.health_failing_since:%d %b %Y, %H:%M} "
            f"UTC. {finding.reason} VCC keeps trying; if this goes on, check the org's status and API limits "
            f"in Salesforce, or relink."
        )
        _set_attention(link, code="unreachable", reason=reason, now=now, keep_failure=True)
    elif link.health != LinkHealth.HEALTHY:
        link.health = LinkHealth.UNKNOWN


def _set_attention(link: SalesforceLink, *, code: str, reason: str, now: datetime, keep_failure: bool = False) -> None:
    if link.health != LinkHealth.ATTENTION or link.attention_since is None:
        link.attention_since = now
    link.health = LinkHealth.ATTENTION
    link.attention_code = code
    link.attention_reason = reason
    if not keep_failure:
        link.health_failing_since = None
        link.health_note = ""


def _set_healthy(link: SalesforceLink, *, warnings: list[str]) -> None:
    link.health = LinkHealth.HEALTHY
    link.attention_code = ""
    link.attention_reason = ""
    link.attention_since = None
    link.health_failing_since = None
    link.health_note = ""
    link.permission_warnings = warnings


def _audit_transition(link: SalesforceLink, *, previous_health: str) -> None:
    """Write one audit row for the change; on turning "needs attention", email the admins after commit."""
    action = {
        LinkHealth.HEALTHY: LinkEventAction.HEALTHY,
        LinkHealth.UNKNOWN: LinkEventAction.HEALTH_UNKNOWN,
    }.get(link.health)
    if action is None:
        grant_revoked = link.attention_code == "grant_revoked"
        action = LinkEventAction.REVOKED_BY_SALESFORCE if grant_revoked else LinkEventAction.ATTENTION
    detail = {
        "api_username": link.api_username,
        "org_type": link.org_type,
        "health": link.health,
        "previous_health": previous_health,
    }
    if link.health == LinkHealth.ATTENTION:
        detail.update(reason=link.attention_code, message=link.attention_reason)
    event = LinkEvent.objects.create(account_id=link.account_id, action=action, detail=detail)
    if link.health == LinkHealth.ATTENTION:
        logger.warning("Salesforce link of account #%s needs attention (%s)", link.account_id, link.attention_code)
        transaction.on_commit(partial(link_attention_notify_task.enqueue, event_id=event.pk))


@task()
def link_check_task(link_id: int) -> str:
    """Run ``link_check_health`` in the worker."""
    return link_check_health(link_id=link_id).value


@task()
def api_user_links_check_task(api_user_id: int) -> dict[str, int]:
    """Check every Linked link of one API user (after a sixth approval was created for it)."""
    ids = SalesforceLink.objects.filter(api_user_id=api_user_id, status=LinkStatus.LINKED).values_list("pk", flat=True)
    counts: dict[str, int] = {}
    for link_id in list(ids):
        outcome = link_check_health(link_id=link_id)
        counts[outcome.value] = counts.get(outcome.value, 0) + 1
    return counts
