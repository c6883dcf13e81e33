"""Authorization codes, access and refresh tokens: minting, the approval limit, revocation, look-up.

Only SHA-256 digests of codes and tokens reach the database; the plaintext exists once, in the response.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from salesforce_emulator.identity import identity_url
from salesforce_emulator.models import (
    AccessToken,
    AuthorizationCode,
    AuthorizationRequest,
    ConnectedApp,
    RefreshToken,
    RotatedRefreshToken,
    SalesforceUser,
)

# Reference §2: a code is single-use and lives 15 minutes.
CODE_LIFETIME = timedelta(minutes=15)
# Reference §3: an access token lives as long as the org's session timeout; two hours is Salesforce's default.
SESSION_TIMEOUT = timedelta(hours=2)
# Reference §11: at most five approvals (refresh-token grants) per user per connected app.
MAX_APPROVALS = 5
REFRESH_SCOPES = frozenset({"refresh_token", "offline_access"})


def digest(raw: str) -> str:
    """Return the SHA-256 hex digest under which a code or token is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_code(pending: AuthorizationRequest, *, now: datetime) -> str:
    """Mint the single-use code for an approved request and return its plaintext.

    Salesforce codes are standard base64 ending in ``==`` (hence reference §2's "URL-decode it before the
    exchange"); the emulator's look the same, so a client that forgets to decode fails here too.
    """
    raw = "aPrx" + base64.b64encode(secrets.token_bytes(43)).decode()
    AuthorizationCode.objects.create(
        code_hash=digest(raw),
        app=pending.app,
        user=pending.user,
        redirect_uri=pending.redirect_uri,
        scopes=pending.scopes,
        code_challenge=pending.code_challenge,
        nonce=pending.nonce,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    return raw


def issue_access_token(
    *,
    app: ConnectedApp,
    user: SalesforceUser,
    scopes: str,
    now: datetime,
    refresh_token: RefreshToken | None = None,
    code: AuthorizationCode | None = None,
) -> str:
    """Mint an access token shaped like Salesforce's (``<15-char org id>!<opaque>``) and return it."""
    raw = f"{user.organization_id[:15]}!{secrets.token_urlsafe(72)}"
    AccessToken.objects.create(
        token_hash=digest(raw),
        app=app,
        user=user,
        refresh_token=refresh_token,
        code=code,
        scopes=scopes,
        issued_at=now,
        expires_at=now + SESSION_TIMEOUT,
    )
    return raw


@transaction.atomic
def issue_refresh_token(
    *, app: ConnectedApp, user: SalesforceUser, scopes: str, code: AuthorizationCode, now: datetime
) -> tuple[str, RefreshToken]:
    """Record a new approval and return its refresh token; silently revoke approvals beyond the fifth.

    Reference §11: Salesforce keeps five approvals per user per connected app and revokes the oldest
    when a sixth is made; the holder learns only when its next refresh fails. The user row is locked so
    that concurrent grants for one user count each other.
    """
    SalesforceUser.objects.select_for_update().filter(pk=user.pk).first()
    raw = "5Aep861" + secrets.token_urlsafe(64)
    token = RefreshToken.objects.create(
        token_hash=digest(raw), app=app, user=user, code=code, scopes=scopes, created_at=now
    )
    active = RefreshToken.objects.filter(user=user, app=app, revoked_at__isnull=True)
    stale = list(active.order_by("-created_at", "-pk").values_list("pk", flat=True)[MAX_APPROVALS:])
    if stale:
        _revoke_refresh_tokens(Q(pk__in=stale), now=now)
    return raw, token


def revoke(raw: str, *, host: str) -> bool:
    """Revoke a refresh token with its access tokens, or one access token; tell whether it was live."""
    now = timezone.now()
    on_host = Q(token_hash=digest(raw), user__organization__host=host)
    with transaction.atomic():
        if _revoke_refresh_tokens(on_host, now=now):
            return True
        return bool(
            AccessToken.objects.filter(on_host, revoked_at__isnull=True, expires_at__gt=now).update(revoked_at=now)
        )


def revoke_user_approvals(user: SalesforceUser) -> int:
    """Revoke every approval (refresh token) the user gave, as Setup's "Connected Apps OAuth Usage" does.

    The client that held one learns at its next refresh (``invalid_grant``); return how many were live.
    """
    with transaction.atomic():
        return _revoke_refresh_tokens(Q(user=user), now=timezone.now())


def revoke_issued_from(code: AuthorizationCode) -> None:
    """Revoke every token issued from a code presented twice (RFC 6749 §4.1.2: the code may be stolen)."""
    now = timezone.now()
    with transaction.atomic():
        _revoke_refresh_tokens(Q(code=code), now=now)
        AccessToken.objects.filter(code=code, revoked_at__isnull=True).update(revoked_at=now)


def _revoke_refresh_tokens(which: Q, *, now: datetime) -> int:
    """Revoke the live refresh tokens matching ``which`` and every access token issued from them."""
    ids = list(RefreshToken.objects.filter(which, revoked_at__isnull=True).values_list("pk", flat=True))
    RefreshToken.objects.filter(pk__in=ids).update(revoked_at=now)
    AccessToken.objects.filter(refresh_token__in=ids, revoked_at__isnull=True).update(revoked_at=now)
    return len(ids)


def rotate_refresh_token(refresh_token: RefreshToken, *, presented: str, now: datetime) -> str | None:
    """Replace a refresh token with a new one (rotation on) and return it; None when it was already rotated.

    Reference §5: the old token is invalidated, and presenting a rotated-out token revokes the current one
    with its access tokens. The swap is one conditional UPDATE, so of two concurrent refreshes with the
    same token one wins and the other counts as reuse. The approval (the row) keeps its age.
    """
    raw = "5Aep861" + secrets.token_urlsafe(64)
    with transaction.atomic():
        swapped = RefreshToken.objects.filter(
            pk=refresh_token.pk, token_hash=digest(presented), revoked_at__isnull=True
        ).update(token_hash=digest(raw))
        if swapped:
            RotatedRefreshToken.objects.create(
                token_hash=digest(presented), refresh_token=refresh_token, rotated_at=now
            )
            return raw
    revoke_rotated_out(presented, app=refresh_token.app)
    return None


def revoke_rotated_out(raw: str, *, app: ConnectedApp) -> bool:
    """Revoke the grant whose rotated-out token ``raw`` was presented again (reference §5); tell if it was one."""
    rotated = RotatedRefreshToken.objects.filter(token_hash=digest(raw), refresh_token__app=app).first()
    if rotated is None:
        return False
    with transaction.atomic():
        _revoke_refresh_tokens(Q(pk=rotated.refresh_token_id), now=timezone.now())
    return True


def live_refresh_token(raw: str, *, app: ConnectedApp) -> RefreshToken | None:
    """Return the unrevoked refresh token ``raw`` issued to ``app``, or None."""
    return (
        RefreshToken.objects.select_related("user__organization")
        .filter(token_hash=digest(raw), app=app, revoked_at__isnull=True)
        .first()
    )


def introspect(raw: str, *, app: ConnectedApp, host: str, base_url: str) -> dict[str, object]:
    """Answer Salesforce's token introspection (RFC 7662) for a token issued to ``app`` on ``host``.

    Active access tokens carry ``exp`` (their session's end), ``iat`` and ``nbf`` in seconds; refresh tokens
    have no expiry (valid until revoked, the default policy). Anything else is ``{"active": false}``.
    """
    now = timezone.now()
    access = (
        AccessToken.objects.select_related("user__organization")
        .filter(
            token_hash=digest(raw),
            app=app,
            revoked_at__isnull=True,
            expires_at__gt=now,
            user__is_active=True,
            user__organization__host=host,
        )
        .first()
    )
    if access is not None:
        issued = int(access.issued_at.timestamp())
        return {
            "active": True,
            "scope": access.scopes,
            "client_id": app.consumer_key,
            "username": access.user.username,
            "sub": identity_url(base_url, access.user),
            "token_type": "access_token",
            "exp": int(access.expires_at.timestamp()),
            "iat": issued,
            "nbf": issued,
        }
    refresh = live_refresh_token(raw, app=app)
    if refresh is not None and refresh.user.organization.host == host and refresh.user.is_active:
        issued = int(refresh.created_at.timestamp())
        return {
            "active": True,
            "scope": refresh.scopes,
            "client_id": app.consumer_key,
            "username": refresh.user.username,
            "sub": identity_url(base_url, refresh.user),
            "token_type": "refresh_token",
            "iat": issued,
            "nbf": issued,
        }
    return {"active": False}


def authenticate(authorization: str | None, *, host: str, fallback: str | None = None) -> AccessToken | None:
    """Return the live access token named by a ``Bearer`` (or ``OAuth``) header, or None.

    ``fallback`` is the ``oauth_token`` query parameter the identity URL also accepts (reference §7). A
    token is live when it is unrevoked, inside the session timeout, issued on this host, and its user and
    org are still active (Salesforce ends the sessions of frozen users and locked orgs).
    """
    scheme, _, raw = (authorization or "").partition(" ")
    if scheme.lower() not in {"bearer", "oauth"} or not raw.strip():
        raw = fallback or ""
    if not raw.strip():
        return None
    return (
        AccessToken.objects.select_related("user__organization", "app")
        .filter(
            token_hash=digest(raw.strip()),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
            user__organization__is_active=True,
            user__organization__host=host,
        )
        .first()
    )


def signature(*, client_secret: str, identity_url: str, issued_at: str) -> str:
    """Reference §3: ``base64(HMAC-SHA256(key=client_secret, msg=id + issued_at))``."""
    mac = hmac.new(client_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def id_token(*, issuer: str, identity_url: str, client_id: str, access_token: str, nonce: str, now: datetime) -> str:
    """Build an OpenID Connect ID token with Salesforce's claims, left unsigned (``alg: none``).

    Salesforce signs with RS256 and publishes its keys at ``/id/keys``; the emulator has no key pair, so
    the token is a well-formed unsecured JWT (RFC 7519 §6) that a client may decode but not verify.
    """
    issued = int(now.timestamp())
    at_hash = hashlib.sha256(access_token.encode()).digest()[:16]
    claims = {
        "at_hash": _b64url(at_hash),
        "sub": identity_url,
        "aud": client_id,
        "iss": issuer,
        "exp": issued + 300,
        "iat": issued,
        "auth_time": issued,
    }
    if nonce:
        claims["nonce"] = nonce
    segments = [{"alg": "none", "typ": "JWT"}, claims]
    return ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in segments) + "."


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
