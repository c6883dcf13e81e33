"""The errors the emulator answers with, in Salesforce's two shapes.

OAuth endpoints answer ``{"error", "error_description"}`` (reference §4); the authorize endpoint sends the
same pair back on the redirect URI, or shows it on an error page when the client cannot be trusted with a
redirect. REST endpoints answer ``[{"message", "errorCode"}]`` (reference §8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from salesforce_emulator.models import AuthorizationRequest


class OAuthError(Exception):
    """An OAuth refusal: a JSON 400 at the token and revoke endpoints, an error page at authorize."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class RedirectError(OAuthError):
    """An authorize refusal sent back to the client's verified redirect URI, with its ``state``."""

    def __init__(self, error: str, description: str, *, redirect_uri: str, state: str) -> None:
        super().__init__(error, description)
        self.location = callback_location(redirect_uri, state=state, **self.as_dict())


class LoginRefused(Exception):
    """The username or password did not match a user of this host; the login page says so again."""

    def __init__(self, pending: AuthorizationRequest) -> None:
        super().__init__("login refused")
        self.pending = pending


class RestError(Exception):
    """A REST API refusal: an HTTP status and Salesforce's ``errorCode`` with its message."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message

    def as_list(self) -> list[dict[str, str]]:
        return [{"message": self.message, "errorCode": self.error_code}]


def callback_location(redirect_uri: str, *, state: str, **params: str) -> str:
    """Append ``params`` and, when the client sent one, ``state`` to the redirect URI's query."""
    if state:
        params["state"] = state
    parts = urlsplit(redirect_uri)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))
