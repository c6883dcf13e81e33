"""Access tokens for VCC's backends: a working Salesforce access token for an account, never the grant.

Single flight: a cached access token (encrypted, ``grants``) is handed out until shortly before it
expires. When none is usable, the first request claims the grant's refresh lease and refreshes; the
others wait for the token it caches, so concurrent requests for one account cost one refresh at
Salesforce, whichever app server or worker they reach. A refresh Salesforce refuses (``invalid_grant``
…) marks the link as needing attention exactly as the health check does.

Every token handed out is a ``LinkEvent`` naming the API key and the expiry, never the token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crm_admin import crypto
from crm_admin.exceptions import LinkError, LinkNeedsAttentionError, NotLinkedError, SalesforceUnavailableError
from crm_admin.models import Account, LinkEvent, LinkEventAction, LinkStatus, SalesforceLink, SalesforceToken
from crm_admin.services import grants
from crm_admin.services.health import CheckOutcome, finding_for_grant_failure, link_health_record

#: How long a request waits for another process's refresh of the same grant before giving up.
REFRESH_WAIT = timedelta(seconds=20)
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class IssuedAccessToken:
    access_token: str = field(repr=False)
    expires_at: datetime
    instance_url: str
    org_id: str
    api_user_id: str
    api_username: str
    org_type: str


def access_token_issue(*, account: Account, api_key_id: int, api_key_name: str) -> IssuedAccessToken:
    """Hand a service a usable access token for the account's link, refreshing at most once across callers.

    Raises ``NotLinkedError`` (not Linked), ``LinkNeedsAttentionError`` (needs attention, or Salesforce
    refused the grant just now) or ``SalesforceUnavailableError`` (Salesforce or the refresh did not
    answer in time).
    """
    link = (
        SalesforceLink.objects.select_related("token", "api_user")
        .filter(account=account, status=LinkStatus.LINKED)
        .first()
    )
    if link is None or link.token is None:
        raise NotLinkedError()
    if link.needs_attention:
        raise LinkNeedsAttentionError(link.attention_reason)
    cached = grants.grant_cached_access_token(token=link.token) or _refresh_once(link)
    LinkEvent.objects.create(
        account=account,
        action=LinkEventAction.TOKEN_ISSUED,
        detail={
            "api_key_id": api_key_id,
            "api_key_name": api_key_name,
            "api_username": link.api_username,
            "org_type": link.org_type,
            "expires_at": cached.expires_at.isoformat(),
        },
    )
    return IssuedAccessToken(
        access_token=cached.access_token,
        expires_at=cached.expires_at,
        instance_url=link.instance_url,
        org_id=link.api_user.org_id,
        api_user_id=link.api_user.user_id,
        api_username=link.api_username,
        org_type=link.org_type,
    )


def _refresh_once(link: SalesforceLink) -> grants.CachedAccessToken:
    """Refresh under the grant's lease, or wait for whoever holds it to cache a fresh token."""
    deadline = time.monotonic() + REFRESH_WAIT.total_seconds()
    token_id = link.token_id
    while True:
        owner = grants.grant_lease_claim(token_id=token_id)
        if owner is not None:
            try:
                return _refresh_holding_lease(link)
            finally:
                grants.grant_lease_release(token_id=token_id, owner=owner)
        if time.monotonic() >= deadline:
            raise SalesforceUnavailableError()
        time.sleep(POLL_SECONDS)
        token = SalesforceToken.objects.filter(pk=token_id).first()
        if token is None:
            raise NotLinkedError()  # unlinked or relinked while we waited
        cached = grants.grant_cached_access_token(token=token)
        if cached is not None:
            return cached


def _refresh_holding_lease(link: SalesforceLink) -> grants.CachedAccessToken:
    # The previous lease holder may have cached a token between our look and our claim.
    token = SalesforceToken.objects.filter(pk=link.token_id).first()
    if token is None:
        raise NotLinkedError()
    cached = grants.grant_cached_access_token(token=token)
    if cached is not None:
        return cached
    try:
        refreshed = grants.grant_refresh(link=link)
    except NotLinkedError:
        raise
    except (crypto.InvalidToken, LinkError) as error:
        finding = finding_for_grant_failure(error=error)
        if finding.outcome != CheckOutcome.ATTENTION:
            raise SalesforceUnavailableError() from None
        link_health_record(link_id=link.pk, token_id=link.token_id, finding=finding)
        raise LinkNeedsAttentionError(finding.reason) from None
    return grants.CachedAccessToken(access_token=refreshed.token.access_token, expires_at=refreshed.expires_at)
