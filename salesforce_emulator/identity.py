"""The identity URL and UserInfo bodies for the token's user (reference §7).

Every URL is built on ``base_url``, the emulated host's root as the client reached it, so that
``instance_url``, ``id`` and ``urls`` lead back into the same host.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from salesforce_emulator.models import SalesforceUser

LATEST_API_VERSION = "67.0"
_VERSION_RE = re.compile(r"[0-9]{2}\.[0-9]")


def identity_url(base_url: str, user: SalesforceUser) -> str:
    """Return the ``id`` of the token response: ``<host>/id/<org id 18>/<user id 18>``."""
    return f"{base_url}/id/{user.organization_id}/{user.id}"


def identity(user: SalesforceUser, *, base_url: str, version: str, now: datetime) -> dict[str, Any]:
    """Build the identity URL's JSON body with the fields Salesforce documents."""
    return {
        "id": identity_url(base_url, user),
        "asserted_user": True,
        "user_id": user.id,
        "organization_id": user.organization_id,
        "username": user.username,
        "nick_name": _nickname(user),
        "display_name": user.display_name,
        "email": user.email,
        "email_verified": True,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "timezone": user.time_zone,
        "photos": _photos(base_url),
        "addr_street": None,
        "addr_city": None,
        "addr_state": None,
        "addr_country": None,
        "addr_zip": None,
        "mobile_phone": None,
        "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        **_standing(user, base_url=base_url, version=version, now=now),
        "last_modified_date": user.last_modified.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    }


def userinfo(user: SalesforceUser, *, base_url: str, version: str, now: datetime) -> dict[str, Any]:
    """Build the OpenID Connect UserInfo body: the current user only, ``sub`` being the identity URL."""
    photos = _photos(base_url)
    return {
        "sub": identity_url(base_url, user),
        "user_id": user.id,
        "organization_id": user.organization_id,
        "preferred_username": user.username,
        "nickname": _nickname(user),
        "name": user.display_name,
        "email": user.email,
        "email_verified": True,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "zoneinfo": user.time_zone,
        "photos": photos,
        "profile": f"{base_url}/{user.id}",
        "picture": photos["picture"],
        "address": {},
        "phone_number": None,
        "phone_number_verified": False,
        "is_salesforce_integration_user": False,
        **_standing(user, base_url=base_url, version=version, now=now),
        "updated_at": user.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _standing(user: SalesforceUser, *, base_url: str, version: str, now: datetime) -> dict[str, Any]:
    """The fields the identity URL and UserInfo share: the user's URLs, standing and locale."""
    return {
        "urls": _urls(user, base_url, version),
        "active": user.is_active,
        "user_type": "STANDARD",
        "language": user.language,
        "locale": user.locale,
        "utcOffset": _utc_offset_ms(user, now),
        "is_app_installed": True,
    }


def _nickname(user: SalesforceUser) -> str:
    return user.username.partition("@")[0]


def _photos(base_url: str) -> dict[str, str]:
    return {"picture": f"{base_url}/profilephoto/005/F", "thumbnail": f"{base_url}/profilephoto/005/T"}


def _urls(user: SalesforceUser, base_url: str, version: str) -> dict[str, str]:
    """Return the ``urls`` map; ``{version}`` stays a placeholder unless the caller asked for one.

    SOAP URLs end with the 15-character org id, as Salesforce's do (reference §7).
    """
    org15 = user.organization_id[:15]
    data = f"{base_url}/services/data/v{version}"
    return {
        "enterprise": f"{base_url}/services/Soap/c/{version}/{org15}",
        "metadata": f"{base_url}/services/Soap/m/{version}/{org15}",
        "partner": f"{base_url}/services/Soap/u/{version}/{org15}",
        "rest": f"{data}/",
        "sobjects": f"{data}/sobjects/",
        "search": f"{data}/search/",
        "query": f"{data}/query/",
        "recent": f"{data}/recent/",
        "tooling_soap": f"{base_url}/services/Soap/T/{version}/{org15}",
        "tooling_rest": f"{data}/tooling/",
        "profile": f"{base_url}/{user.id}",
        "feeds": f"{data}/chatter/feeds",
        "groups": f"{data}/chatter/groups",
        "users": f"{data}/chatter/users",
        "feed_items": f"{data}/chatter/feed-items",
        "feed_elements": f"{data}/chatter/feed-elements",
        "custom_domain": base_url,
    }


def resolve_version(requested: str | None) -> str:
    """Map the identity URL's ``version`` parameter to a number, or keep the ``{version}`` placeholder."""
    if requested == "latest":
        return LATEST_API_VERSION
    if requested and _VERSION_RE.fullmatch(requested):
        return requested
    return "{version}"


def _utc_offset_ms(user: SalesforceUser, now: datetime) -> int:
    offset = now.astimezone(ZoneInfo(user.time_zone)).utcoffset()
    return int(offset.total_seconds() * 1000) if offset else 0
