"""The token endpoint: authenticate the client, then exchange a code or a refresh token (reference §3-5)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import unquote

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from salesforce_emulator import identity, limits, tokens
from salesforce_emulator.errors import OAuthError
from salesforce_emulator.models import AuthorizationCode, ConnectedApp, SalesforceUser

GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


def grant(*, host: str, base_url: str, params: Mapping[str, str], authorization: str | None) -> dict[str, str]:
    """Answer a token request with Salesforce's success body, or raise ``OAuthError``."""
    grant_type = params.get("grant_type", "")
    if grant_type not in GRANT_TYPES:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    app = _authenticate_client(params, authorization)
    if grant_type == "authorization_code":
        return _exchange_code(host=host, base_url=base_url, app=app, params=params)
    return _refresh(host=host, base_url=base_url, app=app, params=params)


def introspect(*, host: str, base_url: str, params: Mapping[str, str], authorization: str | None) -> dict[str, object]:
    """Salesforce's introspection endpoint: the connected app asks about a token it was issued."""
    app = _authenticate_client(params, authorization)
    raw = params.get("token", "")
    if not raw:
        raise OAuthError("invalid_request", "missing required token parameter")
    return tokens.introspect(raw, app=app, host=host, base_url=base_url)


def _authenticate_client(params: Mapping[str, str], authorization: str | None) -> ConnectedApp:
    """Check the consumer key and secret from HTTP Basic or the body (reference §3)."""
    client_id, client_secret = params.get("client_id", ""), params.get("client_secret", "")
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
        # RFC 6749 §2.3.1: both halves are form-urlencoded before joining.
        client_id, _, client_secret = (unquote(part) for part in decoded.partition(":"))
    if not (limits.acceptable(client_id) and limits.acceptable(client_secret)):
        raise OAuthError("invalid_client_id", "client identifier invalid")
    app = ConnectedApp.objects.filter(consumer_key=client_id).first() if client_id else None
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not constant_time_compare(client_secret, app.consumer_secret):
        raise OAuthError("invalid_client", "invalid client credentials")
    return app


def _exchange_code(*, host: str, base_url: str, app: ConnectedApp, params: Mapping[str, str]) -> dict[str, str]:
    raw_code = params.get("code", "")
    if not raw_code:
        raise OAuthError("invalid_request", "missing required code parameter")
    code = (
        AuthorizationCode.objects.select_related("user__organization")
        .filter(code_hash=tokens.digest(raw_code), app=app, user__organization__host=host)
        .first()
    )
    if code is None:
        raise OAuthError("invalid_grant", "invalid authorization code")
    now = timezone.now()
    if code.used_at is not None:
        tokens.revoke_issued_from(code)
        raise OAuthError("invalid_grant", "invalid authorization code")
    if code.expires_at <= now:
        raise OAuthError("invalid_grant", "expired authorization code")
    if params.get("redirect_uri", "") != code.redirect_uri:
        raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
    _check_pkce(code, params.get("code_verifier", ""))
    _check_active(code.user)
    with transaction.atomic():
        # Claim the code in one conditional UPDATE so that two concurrent exchanges cannot both win.
        claimed = AuthorizationCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=now)
        if claimed:
            return _issue_from_code(app=app, code=code, base_url=base_url, now=now)
    tokens.revoke_issued_from(code)
    raise OAuthError("invalid_grant", "invalid authorization code")


def _issue_from_code(*, app: ConnectedApp, code: AuthorizationCode, base_url: str, now: datetime) -> dict[str, str]:
    """Issue the access token, and a refresh token (one approval) when the refresh scope was granted."""
    refresh: dict[str, str] = {}
    refresh_token = None
    if tokens.REFRESH_SCOPES & set(code.scopes.split()):
        refresh["refresh_token"], refresh_token = tokens.issue_refresh_token(
            app=app, user=code.user, scopes=code.scopes, code=code, now=now
        )
    access_token = tokens.issue_access_token(
        app=app, user=code.user, scopes=code.scopes, now=now, refresh_token=refresh_token, code=code
    )
    return _success(
        app=app,
        user=code.user,
        scopes=code.scopes,
        access_token=access_token,
        base_url=base_url,
        nonce=code.nonce,
        refresh=refresh,
    )


def _check_pkce(code: AuthorizationCode, verifier: str) -> None:
    """Reference §1: a missing verifier is ``invalid_grant``, a wrong one ``invalid_request``."""
    if not code.code_challenge:
        if verifier:
            raise OAuthError("invalid_request", "code_verifier sent without a code_challenge")
        return
    if not verifier:
        raise OAuthError("invalid_grant", "invalid code verifier")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if not constant_time_compare(challenge, code.code_challenge):
        raise OAuthError("invalid_request", "invalid code verifier")


def _check_active(user: SalesforceUser) -> None:
    if not user.organization.is_active:
        raise OAuthError("inactive_org", "organization is locked, closed or suspended")
    if not user.is_active:
        raise OAuthError("inactive_user", "user is not active")


def _refresh(*, host: str, base_url: str, app: ConnectedApp, params: Mapping[str, str]) -> dict[str, str]:
    """Reference §5: a live refresh token buys a new access token and, with rotation on, a new refresh token."""
    presented = params.get("refresh_token", "")
    refresh_token = tokens.live_refresh_token(presented, app=app)
    if refresh_token is None or refresh_token.user.organization.host != host:
        tokens.revoke_rotated_out(presented, app=app)
        raise OAuthError("invalid_grant", "expired access/refresh token")
    _check_active(refresh_token.user)
    refresh: dict[str, str] = {}
    if app.rotate_refresh_tokens:
        rotated = tokens.rotate_refresh_token(refresh_token, presented=presented, now=timezone.now())
        if rotated is None:
            raise OAuthError("invalid_grant", "expired access/refresh token")
        refresh["refresh_token"] = rotated
    access_token = tokens.issue_access_token(
        app=app,
        user=refresh_token.user,
        scopes=refresh_token.scopes,
        now=timezone.now(),
        refresh_token=refresh_token,
    )
    return _success(
        app=app,
        user=refresh_token.user,
        scopes=refresh_token.scopes,
        access_token=access_token,
        base_url=base_url,
        nonce="",
        refresh=refresh,
    )


def _success(
    *,
    app: ConnectedApp,
    user: SalesforceUser,
    scopes: str,
    access_token: str,
    base_url: str,
    nonce: str,
    refresh: dict[str, str],
) -> dict[str, str]:
    """Build reference §3's success body: no ``expires_in``, ``issued_at`` in milliseconds as a string."""
    now = timezone.now()
    identity_url = identity.identity_url(base_url, user)
    issued_at = str(int(now.timestamp() * 1000))
    body = {"access_token": access_token, **refresh}
    body["signature"] = tokens.signature(
        client_secret=app.consumer_secret, identity_url=identity_url, issued_at=issued_at
    )
    body["scope"] = scopes
    if "openid" in scopes.split():
        body["id_token"] = tokens.id_token(
            issuer=base_url,
            identity_url=identity_url,
            client_id=app.consumer_key,
            access_token=access_token,
            nonce=nonce,
            now=now,
        )
    body.update(instance_url=base_url, id=identity_url, token_type="Bearer", issued_at=issued_at)
    return body
