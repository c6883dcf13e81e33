"""One link's Salesforce grant: refreshes serialised across processes, a rotated refresh token kept, the
access token cached encrypted.

Every refresh of a grant, by the health check or for a service asking for an access token, first claims
the grant's **refresh lease**: one conditional ``UPDATE`` of the ``SalesforceToken`` row that succeeds only
when no unexpired lease is held. It works alike on SQLite and PostgreSQL, and no transaction stays open
while Salesforce is called. Salesforce revokes a grant whose rotated-out refresh token is presented again
(reference §5), so two concurrent refreshes with rotation on would cost the link; the lease rules that out.

Salesforce's token response has no ``expires_in`` (reference §3). The access token's expiry comes from the
introspection endpoint (``exp``); when introspection does not answer, a conservative lifetime applies
(``SALESFORCE_ACCESS_TOKEN_TTL``, default 15 minutes, the shortest session timeout an org can set).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm_admin import crypto
from crm_admin.exceptions import LinkError, NotLinkedError
from crm_admin.models import RevokeReason, SalesforceLink, SalesforceToken
from crm_admin.salesforce import SalesforceClient, TokenResponse
from crm_admin.services.revokes import pending_revoke_create

logger = logging.getLogger(__name__)

#: Longer than the slowest health check (four calls, each within the connect + read timeouts), so a lease
#: expires only when its holder died.
LEASE_DURATION = timedelta(minutes=2)
#: A cached access token is handed out only while it has at least this long to live.
ACCESS_TOKEN_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Refreshed:
    """A successful refresh: the token response and when its access token expires."""

    token: TokenResponse
    expires_at: datetime


@dataclass(frozen=True)
class CachedAccessToken:
    access_token: str = field(repr=False)
    expires_at: datetime


def grant_lease_claim(*, token_id: int) -> str | None:
    """Claim the grant's refresh lease; return the owner handle, or None while someone else holds it."""
    owner = secrets.token_hex(16)
    now = timezone.now()
    claimed = (
        SalesforceToken.objects.filter(pk=token_id)
        .filter(Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lte=now))
        .update(refresh_lease_owner=owner, refresh_lease_until=now + LEASE_DURATION)
    )
    return owner if claimed else None


def grant_lease_release(*, token_id: int, owner: str) -> None:
    """Release the lease if this owner still holds it."""
    SalesforceToken.objects.filter(pk=token_id, refresh_lease_owner=owner).update(
        refresh_lease_owner="", refresh_lease_until=None
    )


def grant_cached_access_token(*, token: SalesforceToken) -> CachedAccessToken | None:
    """Return the cached access token while it has more than ``ACCESS_TOKEN_MARGIN`` to live, else None."""
    expires_at = token.access_token_expires_at
    if not token.access_token_encrypted or expires_at is None or expires_at - timezone.now() <= ACCESS_TOKEN_MARGIN:
        return None
    try:
        return CachedAccessToken(access_token=crypto.decrypt(token.access_token_encrypted), expires_at=expires_at)
    except crypto.InvalidToken:
        return None


def grant_refresh(*, link: SalesforceLink) -> Refreshed:
    """Refresh the link's grant (call with its lease held); keep a rotated refresh token; cache the access token.

    Reads the refresh token afresh, since the lease's previous holder may have rotated it. Raises
    ``crypto.InvalidToken`` when no configured key opens it, ``NotLinkedError`` when the grant is gone, and
    the client's ``LinkError``s otherwise; on any failure the stored refresh token is left exactly as it was.
    """
    token_id = link.token_id
    stored = SalesforceToken.objects.filter(pk=token_id).first()
    if stored is None:
        raise NotLinkedError()  # unlinked or relinked since the caller looked
    refresh_token = crypto.decrypt(stored.refresh_token_encrypted)
    client = SalesforceClient.for_org_type(link.org_type)
    response = client.refresh(refresh_token=refresh_token)
    if response.refresh_token and response.refresh_token != refresh_token:
        _keep_rotated(link=link, token_id=token_id, refresh_token=response.refresh_token)
    expires_at = _expiry(client, response.access_token)
    SalesforceToken.objects.filter(pk=token_id).update(
        access_token_encrypted=crypto.encrypt(response.access_token),
        access_token_expires_at=expires_at,
        refreshed_at=timezone.now(),
    )
    return Refreshed(token=response, expires_at=expires_at)


def _keep_rotated(*, link: SalesforceLink, token_id: int, refresh_token: str) -> None:
    """Store the new refresh token at once; if the link let go of this grant meanwhile, queue it for revoking.

    Locks the link row first, as unlink and relink do before they move the stored grant to the revoke
    outbox, so the rotated token lands either in the grant they move or in the outbox itself.
    """
    with transaction.atomic():
        holder = SalesforceLink.objects.select_for_update().filter(token_id=token_id).values_list("pk", flat=True)
        if holder.first() is not None:
            SalesforceToken.objects.filter(pk=token_id).update(refresh_token_encrypted=crypto.encrypt(refresh_token))
            return
        pending_revoke_create(
            token=refresh_token, org_type=link.org_type, reason=RevokeReason.ROTATED, account=link.account
        )
    logger.info("A rotated refresh token outlived its link (account #%s); queued for revoking", link.account_id)


def _expiry(client: SalesforceClient, access_token: str) -> datetime:
    """Return when the access token expires: introspection's ``exp``, else the conservative lifetime."""
    fallback = timezone.now() + settings.SALESFORCE_ACCESS_TOKEN_TTL
    try:
        verdict = client.introspect(token=access_token)
    except LinkError:
        return fallback
    if verdict.active and verdict.expires_at is not None:
        return verdict.expires_at
    return fallback
