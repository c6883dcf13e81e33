"""The REST API's discovery resources, its session check, and its answer for paths the emulator does not serve.

Reference §8: ``GET /services/data/`` lists the versions (no authentication), ``GET /services/data/vNN.N/``
lists a version's resources (Bearer token), and every REST error is an array of ``{"message",
"errorCode"}``, a path that does not exist included (``NOT_FOUND``).
"""

from __future__ import annotations

from salesforce_emulator.errors import RestError
from salesforce_emulator.identity import LATEST_API_VERSION
from salesforce_emulator.models import AccessToken

# Salesforce retired API versions 21.0-30.0 in Summer '25; the versions resource now starts at 31.0.
OLDEST_API_VERSION = "31.0"
# Reference §1: the api scope (or full) admits a token to the REST API.
REST_SCOPES = frozenset({"api", "full"})
# Three releases a year; v60.0 was Spring '24 (reference §8, "Versions").
_SEASONS = ("Spring", "Summer", "Winter")
_SPRING_24 = 60
# The keys Salesforce's "Resources by Version" answer lists (REST API guide, "List Available REST Resources").
# The emulator serves ``query`` and ``identity``; the others answer NOT_FOUND, as a resource the org lacks.
RESOURCE_NAMES = (
    "tooling",
    "metadata",
    "eclair",
    "folders",
    "prechatForms",
    "contact-tracing",
    "jsonxform",
    "chatter",
    "payments",
    "tabs",
    "appMenu",
    "quickActions",
    "queryAll",
    "commerce",
    "wave",
    "iot",
    "analytics",
    "search",
    "smartdatadiscovery",
    "composite",
    "parameterizedSearch",
    "fingerprint",
    "theme",
    "nouns",
    "event",
    "serviceTemplates",
    "recent",
    "connect",
    "licensing",
    "limits",
    "process",
    "async-queries",
    "query",
    "match",
    "emailConnect",
    "compactLayouts",
    "knowledgeManagement",
    "sobjects",
    "actions",
    "support",
)


def not_found() -> RestError:
    """The answer for a path, version or resource the REST API does not have."""
    return RestError(404, "NOT_FOUND", "The requested resource does not exist")


def method_not_allowed(method: str) -> RestError:
    return RestError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,HEAD")


def uri_too_long() -> RestError:
    """Salesforce help 000386264: a URI over 16,384 bytes is refused with 414 (the body is not documented)."""
    return RestError(414, "URI_TOO_LONG", "The length of the URI exceeds the 16,384 byte limit.")


def supported_versions() -> list[str]:
    """Every API version the emulator answers, oldest first."""
    oldest, latest = int(float(OLDEST_API_VERSION)), int(float(LATEST_API_VERSION))
    return [f"{major}.0" for major in range(oldest, latest + 1)]


def check_version(version: str) -> None:
    """Refuse a version Salesforce does not serve (retired, not yet released, or not ``NN.0``)."""
    if version not in supported_versions():
        raise not_found()


def release_label(version: str) -> str:
    """Name the release of a version: 60.0 is Spring '24, 62.0 Winter '25, 31.0 Summer '14."""
    steps = int(float(version)) - _SPRING_24
    season = _SEASONS[steps % 3]
    year = 24 + steps // 3 + (1 if season == "Winter" else 0)
    return f"{season} '{year:02d}"


def versions() -> list[dict[str, str]]:
    """The versions resource's answer, oldest first."""
    return [
        {"label": release_label(version), "url": f"/services/data/v{version}", "version": version}
        for version in supported_versions()
    ]


def resources(version: str, *, identity_url: str) -> dict[str, str]:
    """The "Resources by Version" answer; ``identity`` is the token user's identity URL, as Salesforce's is."""
    listing = {name: f"/services/data/v{version}/{name}" for name in RESOURCE_NAMES}
    listing["identity"] = identity_url
    return listing


def require_session(token: AccessToken | None) -> AccessToken:
    """Admit a live token with REST scope to a REST resource, or raise what Salesforce answers (reference §5, §8)."""
    if token is None:
        raise RestError(401, "INVALID_SESSION_ID", "Session expired or invalid")
    if not token.scope_set & REST_SCOPES:
        raise RestError(401, "INVALID_SESSION_ID", "This session is not valid for use with the REST API")
    if not token.user.organization.api_enabled:
        raise RestError(403, "API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization.")
    return token
