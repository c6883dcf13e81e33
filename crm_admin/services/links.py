"""Link, Relink and Unlink: the Salesforce OAuth web-server flow as a sequence of small transactions.

1. ``link_start`` records a ``PendingAuthorization`` (hashed state, encrypted PKCE verifier) and returns
   the authorize URL. With an API username given up front it checks the five-accounts rule before the
   admin ever reaches Salesforce (reference §11).
2. ``authorization_consume`` pops the attempt at the callback before any other work (checklist A2).
3. ``link_complete`` exchanges the code, verifies the response, reads the identity and permissions,
   then links in one transaction that locks the API user row (checklist G1). Any attempt that obtained
   a grant but does not end Linked revokes that grant.
4. ``link_unlink`` unlinks locally in one transaction and then revokes at Salesforce, keeping a
   ``PendingRevoke`` when Salesforce cannot be reached.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from crm_admin import crypto, selectors
from crm_admin.exceptions import (
    AccessDeniedError,
    ApiUserLimitReachedError,
    AttemptExpiredError,
    AttemptInvalidError,
    InactiveApiUserError,
    LinkError,
    MissingPermissionsError,
    NotLinkedError,
    SalesforceAuthorizeError,
    TooManyAttemptsError,
)
from crm_admin.models import (
    MAX_ACCOUNTS_PER_API_USER,
    Account,
    AuthorizationOutcome,
    LinkEvent,
    LinkEventAction,
    LinkStatus,
    OrgType,
    PendingAuthorization,
    PendingRevoke,
    RevokeReason,
    SalesforceApiUser,
    SalesforceLink,
    SalesforceToken,
)
from crm_admin.salesforce import Identity, SalesforceClient, TokenResponse, permissions
from crm_admin.services.health import api_user_links_check_task
from crm_admin.services.listing import api_user_link_counts_refresh, link_search_text
from crm_admin.services.revokes import pending_revoke_attempt, pending_revoke_create

logger = logging.getLogger(__name__)

#: Checklist A2: state is short-lived.
ATTEMPT_LIFETIME = timedelta(minutes=10)
#: Checklist F3: bounded pending flows per browser session, and a start rate limit per user.
MAX_OPEN_ATTEMPTS_PER_SESSION = 10
MAX_STARTS_PER_MINUTE = 20

# RFC 6749 §4.1.2.1: an error code is printable ASCII but for the double quote and the backslash; 64
# characters is ample for any real one.
_OAUTH_ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")

CANCELLED_MESSAGE = "Linking was cancelled: the Salesforce window was closed before access was allowed."
SUPERSEDED_MESSAGE = "Linking was not finished: it was superseded by a newer attempt. Start again if needed."


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class LinkStart:
    attempt: PendingAuthorization
    #: Where to send the browser; empty when the attempt was refused before Salesforce.
    authorize_url: str


def link_start(
    *,
    user: AbstractBaseUser,
    account: Account,
    org_type: str,
    session_key: str,
    login_hint: str = "",
    in_popup: bool = True,
    client_ref: uuid.UUID | None = None,
) -> LinkStart:
    """Begin a Link/Relink attempt and return the Salesforce authorize URL for it."""
    org_type = OrgType(org_type)
    login_hint = login_hint.strip()
    now = timezone.now()
    state = secrets.token_urlsafe(32)  # checklist A1: 256 bits from a CSPRNG
    code_verifier = secrets.token_urlsafe(64)  # RFC 7636 §4.1: 43-128 characters (this is 86)
    with transaction.atomic(durable=True):
        session_hash = _digest(session_key)
        _start_rate_check(user=user, now=now)
        _attempts_evict(session_hash=session_hash, now=now)
        attempt = PendingAuthorization.objects.create(
            state_hash=_digest(state),
            code_verifier_encrypted=crypto.encrypt(code_verifier),
            user=user,
            session_key_hash=session_hash,
            account=account,
            org_type=org_type,
            login_hint=login_hint,
            in_popup=in_popup,
            client_ref=client_ref,
            created_at=now,
            expires_at=now + ATTEMPT_LIFETIME,
        )
        if login_hint and (
            selectors.api_user_linked_elsewhere_by_username(username=login_hint, exclude_account=account)
            >= MAX_ACCOUNTS_PER_API_USER
        ):
            # Refused before Salesforce: no approval is created, so no other account's link is harmed.
            refusal = ApiUserLimitReachedError(MAX_ACCOUNTS_PER_API_USER)
            _attempt_finish(attempt, AuthorizationOutcome.REFUSED, refusal.user_message, consumed=True)
            LinkEvent.objects.create(
                account=account,
                actor=user,
                action=LinkEventAction.REFUSED,
                detail={"reason": refusal.code, "login_hint": login_hint, "before_salesforce": True},
            )
            return LinkStart(attempt=attempt, authorize_url="")
    client = SalesforceClient.for_org_type(org_type)
    url = client.authorization_url(state=state, code_verifier=code_verifier, login_hint=login_hint)
    return LinkStart(attempt=attempt, authorize_url=url)


def _start_rate_check(*, user: AbstractBaseUser, now: datetime) -> None:
    """Refuse a start beyond ``MAX_STARTS_PER_MINUTE`` for this user (checklist F3).

    Every start stays a row (eviction only closes attempts), so the count is exact; locking the user's
    row makes concurrent starts of one user count each other.
    """
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    recent = PendingAuthorization.objects.filter(user=user, created_at__gte=now - timedelta(minutes=1))
    if recent.count() >= MAX_STARTS_PER_MINUTE:
        raise TooManyAttemptsError()


def _attempts_evict(*, session_hash: str, now: datetime) -> None:
    """Close this session's oldest open attempts beyond the cap, keeping room for the new one.

    Checklist F3 (allauth's ``MAX_STATES``): an evicted attempt is consumed, so its callback is refused,
    but never deleted, so the start rate limit still counts it.
    """
    open_attempts = PendingAuthorization.objects.filter(
        session_key_hash=session_hash, consumed_at__isnull=True, outcome=AuthorizationOutcome.PENDING
    ).order_by("-created_at")
    stale = list(open_attempts.values_list("pk", flat=True)[MAX_OPEN_ATTEMPTS_PER_SESSION - 1 :])
    PendingAuthorization.objects.filter(pk__in=stale).update(
        outcome=AuthorizationOutcome.FAILED, message=SUPERSEDED_MESSAGE, completed_at=now, consumed_at=now
    )


def authorization_consume(*, state: str, user: AbstractBaseUser, session_key: str) -> PendingAuthorization:
    """Pop the attempt named by ``state``: valid only once, for its own user and session, for 10 minutes.

    Checklist A1-A3: flow data comes from this record, never from the callback's parameters.
    """
    if not state or not user.is_authenticated:
        raise AttemptInvalidError()
    with transaction.atomic(durable=True):
        attempt = (
            PendingAuthorization.objects.select_for_update()
            .select_related("account")
            .filter(state_hash=_digest(state))
            .first()
        )
        if (
            attempt is None
            or attempt.consumed_at is not None
            or attempt.outcome not in (AuthorizationOutcome.PENDING, AuthorizationOutcome.ABANDONED)
            or attempt.user_id != user.pk
            or not constant_time_compare(attempt.session_key_hash, _digest(session_key or ""))
        ):
            raise AttemptInvalidError()
        expired = timezone.now() >= attempt.expires_at
        if expired:
            _attempt_finish(attempt, AuthorizationOutcome.FAILED, AttemptExpiredError.user_message, consumed=True)
        else:
            attempt.consumed_at = timezone.now()
            attempt.save(update_fields=["consumed_at"])
    if expired:
        raise AttemptExpiredError()  # raised after commit, so the outcome is recorded
    return attempt


def authorization_fail(*, attempt: PendingAuthorization, error: str) -> LinkError:
    """Record an error that Salesforce sent to the callback instead of a code; return it for display."""
    if not _OAUTH_ERROR_CODE.fullmatch(error):
        error = "malformed"  # anything else came from someone other than Salesforce; never stored as sent
    failure: LinkError
    if error in ("access_denied", "access-denied"):  # reference §2: the hyphen form appears in help pages
        failure, outcome, action = AccessDeniedError(), AuthorizationOutcome.DENIED, LinkEventAction.DENIED
    else:
        failure, outcome, action = (
            SalesforceAuthorizeError(error),
            AuthorizationOutcome.FAILED,
            LinkEventAction.FAILED,
        )
    with transaction.atomic(durable=True):
        _attempt_finish(attempt, outcome, failure.user_message)
        LinkEvent.objects.create(
            account=attempt.account,
            actor=attempt.user,
            action=action,
            detail={"reason": failure.code, "salesforce_error": error, "org_type": attempt.org_type},
        )
    return failure


@dataclass(frozen=True)
class LinkResult:
    link: SalesforceLink
    relinked: bool
    warnings: list[str]


def link_complete(*, attempt: PendingAuthorization, code: str) -> LinkResult:
    """Finish a consumed attempt: exchange the code and link, or leave everything as it was.

    Raises a ``LinkError`` with the admin's message on any refusal or failure; the attempt records the
    outcome either way, and a grant that was obtained but not used is revoked.
    """
    client = SalesforceClient.for_org_type(attempt.org_type)
    try:
        token = client.exchange_code(code=code, code_verifier=crypto.decrypt(attempt.code_verifier_encrypted))
    except LinkError as failure:
        _record_failure(attempt, failure, grant=failure.orphan_token)
        raise
    except Exception:
        logger.exception("Unexpected failure exchanging the authorization code")
        failure = LinkError()
        _record_failure(attempt, failure)
        raise failure from None

    identity: Identity | None = None
    try:
        identity = client.identity(id_url=token.id_url, access_token=token.access_token)
        if not identity.active:
            raise InactiveApiUserError()
        warnings = _check_permissions(client, token)
        result = _link_commit(attempt=attempt, token=token, identity=identity, warnings=warnings)
    except LinkError as failure:
        _record_failure(attempt, failure, grant=token.refresh_token or token.access_token, identity=identity)
        raise
    except Exception:
        logger.exception("Unexpected failure completing a Salesforce link")
        failure = LinkError()
        _record_failure(attempt, failure, grant=token.refresh_token or token.access_token, identity=identity)
        raise failure from None
    return result


def _check_permissions(client: SalesforceClient, token: TokenResponse) -> list[str]:
    """Refuse when a required permission is missing; return labels of missing recommended ones."""
    required = list(settings.SALESFORCE_REQUIRED_PERMISSIONS)
    fields = required + [f for f in permissions.RECOMMENDED if f not in required]
    granted = client.user_permissions(instance_url=token.instance_url, access_token=token.access_token, fields=fields)
    missing = [permissions.label(f) for f in required if not granted.get(f)]
    if missing:
        raise MissingPermissionsError(missing)
    return [permissions.label(f) for f in fields if f not in required and not granted.get(f)]


def _link_commit(
    *, attempt: PendingAuthorization, token: TokenResponse, identity: Identity, warnings: list[str]
) -> LinkResult:
    """Link in one transaction: lock the API user, count its links, take a slot, swap the token."""
    old_revoke: PendingRevoke | None = None
    with transaction.atomic(durable=True):
        api_user, _ = SalesforceApiUser.objects.get_or_create(
            org_id=identity.org_id, user_id=identity.user_id, defaults={"username": identity.username}
        )
        # Checklist G1: the parent-row lock serialises every link of this API user (no-op on SQLite,
        # where the IMMEDIATE transaction already holds the database's write lock).
        api_user = SalesforceApiUser.objects.select_for_update().get(pk=api_user.pk)
        link = SalesforceLink.objects.select_for_update().get_or_create(account=attempt.account)[0]
        used_slots = set(
            SalesforceLink.objects.filter(api_user=api_user, status=LinkStatus.LINKED)
            .exclude(pk=link.pk)
            .values_list("slot", flat=True)
        )
        if len(used_slots) >= MAX_ACCOUNTS_PER_API_USER:
            raise ApiUserLimitReachedError(MAX_ACCOUNTS_PER_API_USER)
        if link.api_user_id == api_user.pk and link.slot:
            slot = link.slot  # relinking to the same API user keeps its slot (checklist G4)
        else:
            free = sorted(set(range(1, MAX_ACCOUNTS_PER_API_USER + 1)) - used_slots)
            slot = free[0]
        previous_status = link.status
        previous_api_user_id = link.api_user_id
        previous = {"org_type": link.org_type, "api_username": link.api_username or link.legacy_username}
        old_token = link.token
        if old_token is not None:
            old_revoke = PendingRevoke.objects.create(
                token_encrypted=old_token.refresh_token_encrypted,
                org_type=link.org_type,
                reason=RevokeReason.RELINK,
                account=attempt.account,
            )
        if api_user.username != identity.username:
            api_user.username = identity.username
            api_user.save(update_fields=["username", "updated_at"])
        new_token = SalesforceToken.objects.create(
            refresh_token_encrypted=crypto.encrypt(token.refresh_token or ""),
            scope=token.scope,
            issued_at=_issued_at(token.issued_at),
        )
        link.status = LinkStatus.LINKED
        link.org_type = attempt.org_type
        link.api_user = api_user
        link.slot = slot
        link.api_username = identity.username
        link.instance_url = token.instance_url
        link.link_key = secrets.token_hex(32)
        link.token = new_token
        link.linked_at = timezone.now()
        link.linked_by = attempt.user
        link.linked_by_username = attempt.user.get_username()
        link.legacy_username = ""
        link.permission_warnings = warnings
        _clear_health(link)
        link.org_id = identity.org_id
        link.search_text = link_search_text(account=attempt.account, link=link)
        try:
            with transaction.atomic():
                link.save()
        except IntegrityError:
            # Checklist G3: the (api_user, slot) constraint caught a count that went stale.
            raise ApiUserLimitReachedError(MAX_ACCOUNTS_PER_API_USER) from None
        api_user_link_counts_refresh(api_user_ids=[api_user.pk, previous_api_user_id])
        if old_token is not None:
            old_token.delete()
        relinked = previous_status != LinkStatus.UNLINKED
        LinkEvent.objects.create(
            account=attempt.account,
            actor=attempt.user,
            action=LinkEventAction.RELINKED if relinked else LinkEventAction.LINKED,
            detail={
                "org_type": attempt.org_type,
                "org_id": identity.org_id,
                "user_id": identity.user_id,
                "api_username": identity.username,
                "previous_status": previous_status,
                "previous": previous,
                "slot": slot,
                "warnings": warnings,
            },
        )
        message = (
            f"{'Relinked' if relinked else 'Linked'} to Salesforce ({OrgType(attempt.org_type).label}) "
            f"as {identity.username}."
        )
        _attempt_finish(attempt, AuthorizationOutcome.LINKED, message)
    if old_revoke is not None:
        pending_revoke_attempt(pending_revoke_id=old_revoke.pk)
    return LinkResult(link=link, relinked=relinked, warnings=warnings)


def _issued_at(value: str) -> datetime:
    """Salesforce's ``issued_at`` is milliseconds since the epoch as a string (reference §3)."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (ValueError, OverflowError):
        return timezone.now()


def _record_failure(
    attempt: PendingAuthorization, failure: LinkError, *, grant: str | None = None, identity: Identity | None = None
) -> None:
    """Record why an attempt did not link; revoke the grant it obtained, if any (orphans cost approvals)."""
    refused = isinstance(failure, ApiUserLimitReachedError | MissingPermissionsError | InactiveApiUserError)
    pending = None
    with transaction.atomic(durable=True):
        if grant:
            pending = pending_revoke_create(
                token=grant,
                org_type=attempt.org_type,
                reason=RevokeReason.REFUSED if refused else RevokeReason.FAILED,
                account=attempt.account,
            )
        _attempt_finish(
            attempt, AuthorizationOutcome.REFUSED if refused else AuthorizationOutcome.FAILED, failure.user_message
        )
        detail = {"reason": failure.code, "org_type": attempt.org_type}
        if identity is not None:
            detail.update(org_id=identity.org_id, user_id=identity.user_id, api_username=identity.username)
        LinkEvent.objects.create(
            account=attempt.account,
            actor=attempt.user,
            action=LinkEventAction.REFUSED if refused else LinkEventAction.FAILED,
            detail=detail,
        )
    if pending is not None:
        pending_revoke_attempt(pending_revoke_id=pending.pk)
    if isinstance(failure, ApiUserLimitReachedError) and identity is not None:
        # Reference §11: Salesforce already created a sixth approval and revoked the user's oldest one.
        api_user = SalesforceApiUser.objects.filter(org_id=identity.org_id, user_id=identity.user_id).first()
        if api_user is not None:
            api_user_links_check_task.enqueue(api_user_id=api_user.pk)


def _attempt_finish(
    attempt: PendingAuthorization, outcome: AuthorizationOutcome, message: str, *, consumed: bool = False
) -> None:
    now = timezone.now()
    attempt.outcome = outcome
    attempt.message = message
    attempt.completed_at = now
    fields = ["outcome", "message", "completed_at"]
    if consumed:
        attempt.consumed_at = now
        fields.append("consumed_at")
    attempt.save(update_fields=fields)


def attempt_abandon(*, attempt: PendingAuthorization) -> PendingAuthorization:
    """Mark an attempt whose popup was closed as cancelled.

    Only a guess of the opener page (COOP can make ``popup.closed`` lie), so an abandoned attempt may
    still complete if Salesforce calls back before it expires.
    """
    with transaction.atomic(durable=True):
        attempt = PendingAuthorization.objects.select_for_update().get(pk=attempt.pk)
        if attempt.outcome == AuthorizationOutcome.PENDING and attempt.consumed_at is None:
            attempt.outcome = AuthorizationOutcome.ABANDONED
            attempt.message = CANCELLED_MESSAGE
            attempt.save(update_fields=["outcome", "message"])
    return attempt


@dataclass(frozen=True)
class UnlinkResult:
    #: False when Salesforce could not be told; the grant then waits in the PendingRevoke outbox.
    revoked: bool


def link_unlink(*, user: AbstractBaseUser, account: Account) -> UnlinkResult:
    """Unlink locally in one transaction, then revoke the grant at Salesforce (checklist A13)."""
    pending: PendingRevoke | None = None
    with transaction.atomic(durable=True):
        link = SalesforceLink.objects.select_for_update().get_or_create(account=account)[0]
        if link.status == LinkStatus.UNLINKED:
            raise NotLinkedError()
        detail = {
            "previous_status": link.status,
            "org_type": link.org_type,
            "api_username": link.api_username or link.legacy_username,
        }
        if link.api_user is not None:
            detail.update(org_id=link.api_user.org_id, user_id=link.api_user.user_id)
        old_token = link.token
        previous_api_user_id = link.api_user_id
        if old_token is not None:
            pending = PendingRevoke.objects.create(
                token_encrypted=old_token.refresh_token_encrypted,
                org_type=link.org_type,
                reason=RevokeReason.UNLINK,
                account=account,
            )
        _clear(link)
        link.search_text = link_search_text(account=account, link=link)
        link.save()
        api_user_link_counts_refresh(api_user_ids=[previous_api_user_id])
        if old_token is not None:
            old_token.delete()
        LinkEvent.objects.create(account=account, actor=user, action=LinkEventAction.UNLINKED, detail=detail)
    revoked = pending is None or pending_revoke_attempt(pending_revoke_id=pending.pk)
    return UnlinkResult(revoked=revoked)


def _clear(link: SalesforceLink) -> None:
    link.status = LinkStatus.UNLINKED
    link.org_type = ""
    link.api_user = None
    link.slot = None
    link.api_username = ""
    link.instance_url = ""
    link.link_key = None
    link.token = None
    link.linked_at = None
    link.linked_by = None
    link.linked_by_username = ""
    link.legacy_username = ""
    link.permission_warnings = []
    link.org_id = ""
    link.api_user_link_count = 0
    _clear_health(link)


def _clear_health(link: SalesforceLink) -> None:
    """A new (or no) grant: nothing is known yet about its health."""
    link.attention_reason = ""
    link.attention_code = ""
    link.attention_since = None
    link.health = ""
    link.health_checked_at = None


def link_mark_legacy(
    *,
    account: Account,
    legacy_username: str,
    org_type: str = "",
    org_id: str = "",
    actor: AbstractBaseUser | None = None,
) -> SalesforceLink:
    """Record a link made by the old method (migration of existing customers, demo data).

    ``org_id``, when known, is the 18-character id (callers convert a 15-character one).
    """
    with transaction.atomic():
        link = SalesforceLink.objects.select_for_update().get_or_create(account=account)[0]
        if link.status == LinkStatus.LINKED:
            raise LinkError("This account has an OAuth link; unlink it before recording a legacy link.")
        _clear(link)
        link.status = LinkStatus.LEGACY
        link.legacy_username = legacy_username
        link.org_type = org_type
        link.org_id = org_id
        link.search_text = link_search_text(account=account, link=link)
        link.save()
        detail = {"legacy_username": legacy_username, "org_type": org_type}
        if org_id:
            detail["org_id"] = org_id
        LinkEvent.objects.create(account=account, actor=actor, action=LinkEventAction.LEGACY_SET, detail=detail)
    return link
