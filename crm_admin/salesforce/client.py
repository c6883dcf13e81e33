"""Salesforce OAuth 2.0 web-server flow and the two REST calls the portal needs.

No database, no session: callers pass everything in and get plain values or a named error from
``crm_admin.exceptions`` back. Every call has a (connect, read) timeout (checklist H1) and never follows
a redirect with a secret in the body. Tokens, codes and secrets are never logged (checklist E5).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from oauthlib.oauth2 import MissingTokenError, OAuth2Error
from requests_oauthlib import OAuth2Session

from crm_admin import exceptions
from crm_admin.salesforce import ids

logger = logging.getLogger(__name__)

#: Checklist A10: least scopes. ``refresh_token`` for offline use, ``id`` for the identity URL.
SCOPES = ["api", "refresh_token", "id"]
#: Hosts Salesforce serves instance and identity URLs from (reference §1); plus the configured login URL.
TRUSTED_HOST_SUFFIXES = (".salesforce.com", ".force.com", ".cloudforce.com", ".salesforce.mil")


@dataclass(frozen=True)
class TokenResponse:
    """A validated token endpoint answer. ``repr`` never shows the tokens."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    instance_url: str
    id_url: str
    issued_at: str
    scope: str


@dataclass(frozen=True)
class Introspection:
    """What Salesforce's introspection endpoint says of a token (RFC 7662); ``expires_at`` may be unknown."""

    active: bool
    expires_at: datetime | None


@dataclass(frozen=True)
class Identity:
    org_id: str
    user_id: str
    username: str
    display_name: str
    active: bool


def pkce_challenge(code_verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def expected_signature(*, client_secret: str, id_url: str, issued_at: str) -> str:
    """Reference §3: base64(HMAC-SHA256(key=client_secret, msg=id + issued_at))."""
    mac = hmac.new(client_secret.encode(), (id_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


class SalesforceClient:
    """One Salesforce login host (Production or Sandbox) and the portal's connected app."""

    def __init__(
        self,
        *,
        login_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        api_version: str,
        timeout: tuple[float, float],
    ) -> None:
        self.login_url = login_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.api_version = api_version
        self.timeout = timeout

    @classmethod
    def for_org_type(cls, org_type: str) -> SalesforceClient:
        """Build the client for ``production`` or ``sandbox`` from settings."""
        login_url = {
            "production": settings.SALESFORCE_PRODUCTION_LOGIN_URL,
            "sandbox": settings.SALESFORCE_SANDBOX_LOGIN_URL,
        }[org_type]
        return cls(
            login_url=login_url,
            client_id=settings.SALESFORCE_CLIENT_ID,
            client_secret=settings.SALESFORCE_CLIENT_SECRET,
            redirect_uri=settings.SALESFORCE_REDIRECT_URI,
            api_version=settings.SALESFORCE_API_VERSION,
            timeout=(settings.SALESFORCE_CONNECT_TIMEOUT, settings.SALESFORCE_READ_TIMEOUT),
        )

    # --- OAuth ------------------------------------------------------------------------------------------

    def authorization_url(self, *, state: str, code_verifier: str, login_hint: str = "") -> str:
        """Return the authorize URL for the popup (reference §1; checklist A4, A5, A10)."""
        extra = {
            "code_challenge": pkce_challenge(code_verifier),
            "code_challenge_method": "S256",  # RFC 9700 §2.1.1: PKCE even for confidential clients
            "prompt": "login consent",  # the admin logs in as the API user, not with their own session
            "display": "popup",
        }
        if login_hint:
            extra["login_hint"] = login_hint
        oauth = OAuth2Session(self.client_id, redirect_uri=self.redirect_uri, scope=SCOPES, state=state)
        url, _ = oauth.authorization_url(f"{self.login_url}/services/oauth2/authorize", **extra)
        return url

    def exchange_code(self, *, code: str, code_verifier: str) -> TokenResponse:
        """Exchange an authorization code, then verify the response's signature and URLs."""
        oauth = self._oauth_session("access_token_response")
        raw = self._call_token_endpoint(
            lambda: oauth.fetch_token(
                self._token_url,
                code=code,
                code_verifier=code_verifier,
                client_secret=self.client_secret,
                include_client_id=True,
                timeout=self.timeout,
            )
        )
        return self._validated(raw, require_refresh_token=True)

    def refresh(self, *, refresh_token: str) -> TokenResponse:
        """Get a fresh access token; ``invalid_grant`` means Salesforce revoked the grant (reference §5, §11)."""
        oauth = self._oauth_session("refresh_token_response")
        raw = self._call_token_endpoint(
            lambda: oauth.refresh_token(
                self._token_url,
                refresh_token=refresh_token,
                client_id=self.client_id,
                client_secret=self.client_secret,
                timeout=self.timeout,
            )
        )
        return self._validated(raw, require_refresh_token=False)

    def introspect(self, *, token: str) -> Introspection:
        """Ask Salesforce whether a token is active and until when (``/services/oauth2/introspect``)."""
        response = self._request(
            "POST",
            f"{self.login_url}/services/oauth2/introspect",
            data={
                "token": token,
                "token_type_hint": "access_token",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            headers={"Accept": "application/json"},
        )
        body = self._json_or_none(response, "active") if response.status_code == 200 else None
        if not isinstance(body, bool):
            logger.warning("Salesforce introspection answered HTTP %s without a verdict", response.status_code)
            raise exceptions.SalesforceUnavailableError()
        return Introspection(active=body, expires_at=_epoch_seconds(response.json().get("exp")))

    def revoke(self, *, token: str) -> None:
        """Revoke a refresh token (and its access tokens) or an access token (reference §6).

        ``invalid_token`` means Salesforce no longer knows it: already revoked, which is what we wanted.
        A 200 whose body is neither empty (reference §6) nor JSON is a garbled answer, not a confirmation:
        the caller keeps the grant queued, since forgetting a live grant costs an approval (reference §11).
        """
        response = self._request("POST", f"{self.login_url}/services/oauth2/revoke", data={"token": token})
        if response.status_code == 200 and _empty_or_json(response):
            return
        if response.status_code == 400 and self._json_or_none(response, "error") == "invalid_token":
            logger.info("Salesforce revoke: token was already invalid")
            return
        logger.warning("Salesforce revoke failed with HTTP %s", response.status_code)
        raise exceptions.SalesforceUnavailableError()

    # --- REST ---------------------------------------------------------------------------------------------

    def identity(self, *, id_url: str, access_token: str) -> Identity:
        """Read the identity URL (reference §7) and validate the ids it reports."""
        if not self.is_trusted_url(id_url):
            raise exceptions.SalesforceResponseInvalidError()
        data = self._rest_json("GET", id_url, access_token=access_token)
        try:
            org_id = ids.to_18(str(data["organization_id"]))
            user_id = ids.to_18(str(data["user_id"]))
            username = str(data["username"])
        except (KeyError, ValueError, TypeError):
            logger.warning("Salesforce identity response lacked valid ids")
            raise exceptions.SalesforceResponseInvalidError() from None
        if not (org_id.startswith(ids.ORGANIZATION_PREFIX) and user_id.startswith(ids.USER_PREFIX)):
            raise exceptions.SalesforceResponseInvalidError()
        return Identity(
            org_id=org_id,
            user_id=user_id,
            username=username,
            display_name=str(data.get("display_name") or username),
            active=bool(data.get("active", False)),
        )

    def user_permissions(self, *, instance_url: str, access_token: str, fields: list[str]) -> dict[str, bool]:
        """Read the current user's permission booleans from ``UserPermissionAccess`` (reference §8)."""
        if not self.is_trusted_url(instance_url):
            raise exceptions.SalesforceResponseInvalidError()
        # Field names come from settings, never from users.
        soql = f"SELECT {', '.join(fields)} FROM UserPermissionAccess"  # noqa: S608
        url = f"{instance_url.rstrip('/')}/services/data/v{self.api_version}/query"
        data = self._rest_json("GET", url, access_token=access_token, params={"q": soql})
        try:
            record = data["records"][0]
        except (KeyError, IndexError, TypeError):
            raise exceptions.SalesforceResponseInvalidError() from None
        return {name: record.get(name) is True for name in fields}

    def is_trusted_url(self, url: str) -> bool:
        """Checklist A9: accept Salesforce's own https hosts, or URLs under the configured login URL."""
        parts = urlsplit(url)
        if url == self.login_url or url.startswith(self.login_url + "/"):
            return True
        host = parts.hostname or ""
        return parts.scheme == "https" and host.endswith(TRUSTED_HOST_SUFFIXES)

    # --- plumbing -------------------------------------------------------------------------------------------

    @property
    def _token_url(self) -> str:
        return f"{self.login_url}/services/oauth2/token"

    def _oauth_session(self, hook: str) -> OAuth2Session:
        oauth = OAuth2Session(self.client_id, redirect_uri=self.redirect_uri)
        oauth.max_redirects = 0  # checklist H1: a 307 would resend the client secret elsewhere
        oauth.register_compliance_hook(hook, _reject_unusable_token_response)
        return oauth

    def _call_token_endpoint(self, call: Any) -> dict[str, Any]:
        try:
            return dict(call())
        except OAuth2Error as error:
            logger.info("Salesforce token endpoint refused: %s", error.error)
            if isinstance(error, MissingTokenError):
                raise exceptions.SalesforceResponseInvalidError() from None
            raise exceptions.SalesforceOAuthError(error.error) from None
        except (requests.RequestException, ValueError) as error:
            logger.warning("Salesforce token endpoint unreachable: %s", type(error).__name__)
            raise exceptions.SalesforceUnavailableError() from None

    def _validated(self, raw: dict[str, Any], *, require_refresh_token: bool) -> TokenResponse:
        try:
            token = TokenResponse(
                access_token=str(raw["access_token"]),
                refresh_token=str(raw["refresh_token"]) if raw.get("refresh_token") else None,
                instance_url=str(raw["instance_url"]),
                id_url=str(raw["id"]),
                issued_at=str(raw["issued_at"]),
                scope=str(raw.get("scope", "")),
            )
            signature = str(raw["signature"])
        except KeyError as missing:
            logger.warning("Salesforce token response lacks %s", missing)
            raise exceptions.SalesforceResponseInvalidError(orphan_token=_grant_token(raw)) from None
        expected = expected_signature(client_secret=self.client_secret, id_url=token.id_url, issued_at=token.issued_at)
        problem = ""
        if not hmac.compare_digest(expected, signature):
            problem = "signature mismatch"
        elif not (self.is_trusted_url(token.instance_url) and self.is_trusted_url(token.id_url)):
            problem = "an untrusted host"
        if problem:
            logger.warning("Salesforce token response rejected: %s", problem)
            raise exceptions.SalesforceResponseInvalidError(orphan_token=_grant_token(raw))
        if require_refresh_token and not token.refresh_token:
            logger.warning("Salesforce granted no refresh token")
            raise exceptions.SalesforceResponseInvalidError(
                "Salesforce did not grant offline access (refresh_token scope). Ask the org's administrator "
                "to allow it for the connected app, then link again.",
                orphan_token=token.access_token,
            )
        return token

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return requests.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            logger.warning("Salesforce unreachable (%s %s): %s", method, _path(url), type(error).__name__)
            raise exceptions.SalesforceUnavailableError() from None

    def _rest_json(self, method: str, url: str, *, access_token: str, **kwargs: Any) -> Any:
        response = self._request(method, url, headers={"Authorization": f"Bearer {access_token}"}, **kwargs)
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError:
                logger.warning("Salesforce sent malformed JSON for %s", _path(url))
                raise exceptions.SalesforceUnavailableError() from None
        error_code = _rest_error_code(response)
        logger.info("Salesforce %s answered HTTP %s %s", _path(url), response.status_code, error_code)
        if error_code == "REQUEST_LIMIT_EXCEEDED":
            raise exceptions.SalesforceRateLimitedError()
        if error_code == "API_DISABLED_FOR_ORG":
            raise exceptions.SalesforceApiDisabledError()
        if response.status_code in (401, 403):
            raise exceptions.SalesforceSessionInvalidError()
        if error_code == "INVALID_FIELD":
            raise exceptions.LinkError(
                "Salesforce does not know one of the permissions this portal checks "
                "(SALESFORCE_REQUIRED_PERMISSIONS). Contact support."
            )
        raise exceptions.SalesforceUnavailableError()

    @staticmethod
    def _json_or_none(response: requests.Response, key: str) -> Any:
        try:
            return response.json().get(key)
        except (ValueError, AttributeError):
            return None


def _reject_unusable_token_response(response: requests.Response) -> requests.Response:
    """Compliance hook: turn 5xx, redirects and non-JSON bodies into 'unavailable' before oauthlib parses."""
    if response.status_code >= 500 or 300 <= response.status_code < 400:
        raise exceptions.SalesforceUnavailableError()
    try:
        json.loads(response.text)
    except ValueError:
        raise exceptions.SalesforceUnavailableError() from None
    return response


def _epoch_seconds(value: Any) -> datetime | None:
    """A time given as seconds since the epoch (RFC 7662 ``exp``), or None when absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _empty_or_json(response: requests.Response) -> bool:
    if not response.content.strip():
        return True
    try:
        response.json()
    except ValueError:
        return False
    return True


def _grant_token(raw: dict[str, Any]) -> str | None:
    """The token that stands for a grant we reject, so the caller can revoke it at this host."""
    value = raw.get("refresh_token") or raw.get("access_token")
    return str(value) if value else None


def _rest_error_code(response: requests.Response) -> str:
    """REST errors are an array of ``{"message", "errorCode"}`` (reference §8)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode", ""))
    return ""


def _path(url: str) -> str:
    """The path of a URL for log lines (no query string: it may carry a token or SOQL)."""
    return urlsplit(url).path
