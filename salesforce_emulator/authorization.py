"""The authorize endpoint's three steps: check the request, log the user in, record Allow or Deny.

Errors follow reference §2: a request whose client or redirect URI cannot be trusted gets an error page
(``OAuthError``); every later refusal goes back to the redirect URI with ``state`` (``RedirectError``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.utils import timezone

from salesforce_emulator import limits, tokens
from salesforce_emulator.errors import LoginRefused, OAuthError, RedirectError, callback_location
from salesforce_emulator.models import AuthorizationRequest, ConnectedApp, SalesforceUser

# How long the login and Allow pages stay usable once the authorize request has arrived.
REQUEST_LIFETIME = timedelta(minutes=30)
DISPLAYS = frozenset({"page", "popup", "touch", "mobile"})
PROMPTS = frozenset({"login", "consent", "select_account"})
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# The forms' request ids are ``secrets.token_urlsafe(32)``: 43 characters (the column holds 64).
REQUEST_ID_LENGTH = 64

# The wording of Salesforce's Allow Access page for each scope (reference §1 lists the scopes).
SCOPE_DESCRIPTIONS: dict[str, str] = {
    "api": "Manage user data via APIs (api)",
    "refresh_token": "Perform requests at any time (refresh_token, offline_access)",
    "offline_access": "Perform requests at any time (refresh_token, offline_access)",
    "id": "Access the identity URL service (id, profile, email, address, phone)",
    "profile": "Access the identity URL service (id, profile, email, address, phone)",
    "email": "Access the identity URL service (id, profile, email, address, phone)",
    "address": "Access the identity URL service (id, profile, email, address, phone)",
    "phone": "Access the identity URL service (id, profile, email, address, phone)",
    "openid": "Access unique user identifiers (openid)",
    "full": "Full access (full)",
    "web": "Manage user data via Web browsers (web)",
}


@dataclass(frozen=True)
class Client:
    """A connected app and a redirect URI that matched one of its callback URLs."""

    app: ConnectedApp
    redirect_uri: str
    state: str

    def refuse(self, error: str, description: str) -> RedirectError:
        return RedirectError(error, description, redirect_uri=self.redirect_uri, state=self.state)


def verify_client(*, params: Mapping[str, str]) -> Client:
    """Find the connected app and check ``redirect_uri`` against its callback URLs exactly."""
    app = ConnectedApp.objects.filter(consumer_key=params.get("client_id", "")).first()
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise OAuthError("redirect_uri_missing", "redirect_uri must be provided")
    if not app.callback_urls.filter(url=redirect_uri).exists():
        raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
    return Client(app=app, redirect_uri=redirect_uri, state=params.get("state", ""))


def begin(*, host: str, client: Client, params: Mapping[str, str]) -> AuthorizationRequest:
    """Validate the rest of the authorize request and store it for the login page."""
    if params.get("response_type") != "code":
        raise client.refuse("unsupported_response_type", "response type not supported")
    scopes = _requested_scopes(client, params.get("scope", ""))
    display = params.get("display") or "page"
    if display not in DISPLAYS:
        raise client.refuse("invalid_request", "invalid display value")
    prompt = set(params.get("prompt", "").split())
    if not prompt <= PROMPTS:
        raise client.refuse("invalid_request", "invalid prompt value")
    if params.get("immediate") == "true":
        # The emulator keeps no login session, so an immediate request can never be answered silently.
        raise client.refuse("immediate_unsuccessful", "immediate unsuccessful")
    code_challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    # Reference §1: Salesforce defines the challenge as SHA-256 only; "plain" would defeat PKCE.
    if method and (method != "S256" or not code_challenge):
        raise client.refuse("invalid_request", "invalid code_challenge_method")
    # RFC 7636 §4.2: base64url without padding, so 43 characters for a SHA-256 digest.
    if code_challenge and not _CHALLENGE_RE.match(code_challenge):
        raise client.refuse("invalid_request", "invalid code_challenge")
    now = timezone.now()
    AuthorizationRequest.objects.filter(created_at__lt=now - REQUEST_LIFETIME).delete()
    return AuthorizationRequest.objects.create(
        id=secrets.token_urlsafe(32),
        host=host,
        app=client.app,
        redirect_uri=client.redirect_uri,
        state=client.state,
        scopes=scopes,
        code_challenge=code_challenge,
        nonce=params.get("nonce", ""),
        display=display,
        login_hint=params.get("login_hint", "")[:80],
        created_at=now,
    )


def _requested_scopes(client: Client, scope: str) -> str:
    """Return the requested scopes in order without repeats; no scope means all of the app's."""
    requested = list(dict.fromkeys(scope.split())) or sorted(client.app.scope_set)
    if not set(requested) <= client.app.scope_set:
        raise client.refuse("invalid_scope", "the requested scope is not allowed")
    return " ".join(requested)


def pending_request(*, host: str, request_id: str, logged_in: bool) -> AuthorizationRequest:
    """Return the open authorize request behind a form, or raise the error page's ``OAuthError``."""
    if not limits.acceptable(request_id, max_length=REQUEST_ID_LENGTH):
        raise OAuthError("invalid_request", "this login request has expired or was already used")
    pending = (
        AuthorizationRequest.objects.select_related("app", "user")
        .filter(
            pk=request_id,
            host=host,
            completed_at__isnull=True,
            created_at__gt=timezone.now() - REQUEST_LIFETIME,
            user__isnull=not logged_in,
        )
        .first()
    )
    if pending is None:
        raise OAuthError("invalid_request", "this login request has expired or was already used")
    return pending


def log_in(*, host: str, request_id: str, username: str, password: str) -> AuthorizationRequest:
    """Check the credentials against this host's users and attach the user to the request.

    An unknown username, a user of the other host and a wrong password look the same (``LoginRefused``).
    With the right password, an inactive org or user ends the flow on the redirect URI (reference §2).
    """
    pending = pending_request(host=host, request_id=request_id, logged_in=False)
    user = _user_named(host=host, username=username)
    if (
        user is None
        or not limits.acceptable(password, max_length=limits.MAX_PASSWORD_LENGTH)
        or not check_password(password, user.password)
    ):
        raise LoginRefused(pending)
    client = Client(app=pending.app, redirect_uri=pending.redirect_uri, state=pending.state)
    if not user.organization.is_active:
        _complete(pending)
        raise client.refuse("inactive_org", "organization is locked, closed or suspended")
    if not user.is_active:
        _complete(pending)
        raise client.refuse("inactive_user", "user is not active")
    pending.user = user
    pending.save(update_fields=["user"])
    return pending


def _user_named(*, host: str, username: str) -> SalesforceUser | None:
    """Find this host's user whose username is exactly ``username``, ignoring case only.

    The database filter narrows the search; the comparison in Python decides, so nothing a database's
    ``LIKE`` tolerates (a NUL that ends the pattern early, say) can stand in for the real name.
    """
    if not username or not limits.acceptable(username, max_length=limits.MAX_USERNAME_LENGTH):
        return None
    candidates = SalesforceUser.objects.select_related("organization").filter(
        username__iexact=username, organization__host=host
    )
    return next((user for user in candidates if user.username.lower() == username.lower()), None)


def decide(*, host: str, request_id: str, allow: bool) -> str:
    """Record the user's Allow or Deny and return where to send the browser: the redirect URI."""
    pending = pending_request(host=host, request_id=request_id, logged_in=True)
    with transaction.atomic():
        if not _complete(pending):
            raise OAuthError("invalid_request", "this login request has expired or was already used")
        if not allow:
            # Reference §2: the form Salesforce CLI tests and fixtures show.
            return callback_location(
                pending.redirect_uri,
                state=pending.state,
                error="access_denied",
                error_description="end-user denied authorization",
            )
        code = tokens.create_code(pending, now=timezone.now())
    return callback_location(pending.redirect_uri, state=pending.state, code=code)


def _complete(pending: AuthorizationRequest) -> bool:
    """Close the request once; tell whether this call was the one that closed it."""
    return bool(
        AuthorizationRequest.objects.filter(pk=pending.pk, completed_at__isnull=True).update(
            completed_at=timezone.now()
        )
    )


def scope_descriptions(scopes: str) -> list[str]:
    """Describe the requested scopes in the Allow page's words, once each."""
    return list(dict.fromkeys(SCOPE_DESCRIPTIONS.get(scope, scope) for scope in scopes.split()))
