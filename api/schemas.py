"""The API's request and response shapes: typed, described and exampled for the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from crm_admin.directory import MAX_PAGE_SIZE, ORDERINGS, PAGE_SIZE, SUMMARY_CACHE_SECONDS
from crm_admin.models import (
    MAX_ACCOUNTS_PER_API_USER,
    LinkEventAction,
    LinkHealth,
    LinkStatus,
    OrgType,
)

ORG_ID_EXAMPLE = "00D5g000004ABCDEA4"
USER_ID_EXAMPLE = "0055g00000AbCdEAAV"
TIME_EXAMPLE = "2025-03-14T09:26:53Z"

#: Query values for ``sort``: a column ascending, or with a leading ``-`` descending.
SortKey = StrEnum("SortKey", {f"{prefix}{column}": f"{prefix}{column}" for column in ORDERINGS for prefix in ("", "-")})
SortKey.__doc__ = "A column to sort by; a leading '-' sorts descending."


class Error(BaseModel):
    detail: str = Field(description="What went wrong, in words for people.", examples=["No such account."])


class FieldError(BaseModel):
    location: str = Field(
        description="Where the bad value was: 'query.limit', 'path.org_id', …", examples=["query.limit"]
    )
    message: str = Field(description="What is wrong with it.", examples=["Input should be less than or equal to 200"])


class ValidationFailure(BaseModel):
    detail: str = Field(
        description="A summary of every bad value.", examples=["Invalid request: query.limit: must be at most 200."]
    )
    errors: list[FieldError] = Field(description="Each bad value on its own.")


class AccountRef(BaseModel):
    slug: str = Field(description="The VCC account's identifier in URLs.", examples=["acme"])
    name: str = Field(description="The VCC account's display name.", examples=["Acme Contact Center"])


class ApiUserRef(BaseModel):
    id: str = Field(description="The Salesforce user id, 18 characters.", examples=[USER_ID_EXAMPLE])
    org_id: str = Field(description="The Salesforce organization id, 18 characters.", examples=[ORG_ID_EXAMPLE])
    username: str = Field(description="The Salesforce username, as Salesforce last reported it.")
    accounts_used: int = Field(description="How many VCC accounts this API user serves (Linked).", ge=0, examples=[2])
    accounts_max: int = Field(
        description="How many it may serve: Salesforce keeps five approvals per user and connected app.",
        examples=[MAX_ACCOUNTS_PER_API_USER],
    )


class Health(BaseModel):
    result: LinkHealth | None = Field(
        description="The last health check's verdict; null when the link was never checked.", examples=["healthy"]
    )
    needs_attention: bool = Field(description="The link is broken and an admin must relink.")
    reason: str | None = Field(
        description="What is wrong, in words for the account's admins; null unless it needs attention."
    )
    reason_code: str | None = Field(
        description="Machine-readable reason, e.g. 'grant_revoked'; null unless it needs attention.",
        examples=["grant_revoked"],
    )
    attention_since: datetime | None = Field(description="Since when it needs attention.")
    checked_at: datetime | None = Field(description="When the last health check ran.", examples=[TIME_EXAMPLE])


class LinkSummary(BaseModel):
    """One VCC account's Salesforce link, as one row of the directory."""

    account: AccountRef
    status: LinkStatus = Field(
        description="unlinked; linked (by OAuth, through the portal); legacy (by an old method: relink).",
        examples=["linked"],
    )
    org_type: OrgType | None = Field(description="production or sandbox; null when unlinked.", examples=["production"])
    org_id: str | None = Field(
        description="The Salesforce organization id (18 characters), for a linked or legacy link.",
        examples=[ORG_ID_EXAMPLE],
    )
    api_user: ApiUserRef | None = Field(description="The Salesforce API user VCC acts as; null unless linked.")
    legacy_username: str | None = Field(description="The username of a legacy link; null otherwise.")
    instance_url: str | None = Field(
        description="The org's Salesforce instance; null unless linked.", examples=["https://acme.my.salesforce.com"]
    )
    linked_at: datetime | None = Field(description="When it was linked; null unless linked.", examples=[TIME_EXAMPLE])
    linked_by: str | None = Field(description="The portal user who linked it.", examples=["acme.admin"])
    health: Health


class LinkEvent(BaseModel):
    action: LinkEventAction = Field(description="What happened.", examples=["linked"])
    label: str = Field(description="The action in words.", examples=["Linked"])
    summary: str = Field(
        description="The API user and org type involved, and why an attempt failed (never a token).",
        examples=["api@acme.example · Production"],
    )
    actor: str | None = Field(description="The portal user who acted; null for the system.", examples=["acme.admin"])
    at: datetime = Field(description="When it happened.", examples=[TIME_EXAMPLE])


class LinkDetail(LinkSummary):
    """One VCC account's Salesforce link with its most recent history."""

    recent_events: list[LinkEvent] = Field(description="The latest changes and attempts, newest first.")


class LinkPage(BaseModel):
    items: list[LinkSummary]
    total: int = Field(
        description=(
            "How many links match, on all pages. Without a search or an org type filter it comes from the "
            f"status counts, cached for {SUMMARY_CACHE_SECONDS} seconds, so it may lag that much behind the pages."
        ),
        ge=0,
        examples=[1234],
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    previous_cursor: str | None = Field(description="Pass as `cursor` for the previous page; null on the first.")


class ServedAccount(BaseModel):
    slot: int | None = Field(
        description="Which of the API user's five Salesforce approvals the link holds (1-5).", examples=[1]
    )
    account: AccountRef
    status: LinkStatus = Field(examples=["linked"])
    org_type: OrgType | None = Field(examples=["production"])
    linked_at: datetime | None = Field(examples=[TIME_EXAMPLE])
    health: Health


class ApiUserDetail(ApiUserRef):
    """A Salesforce API user and the VCC accounts it serves."""

    accounts: list[ServedAccount] = Field(description="The accounts it serves, by slot.")


WITHOUT_NUL = r"^[^\x00]*$"


def _without_nul(value: str) -> str:
    """Refuse a NUL character: PostgreSQL text cannot hold one, so it could only ever fail."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


class LinkFilters(BaseModel):
    status: LinkStatus | None = Field(None, description="Only links in this status.")
    org_type: OrgType | None = Field(None, description="Only links to this kind of org.")
    needs_attention: bool | None = Field(None, description="true: only links needing attention; false: none of them.")
    q: Annotated[str, Field(max_length=200), AfterValidator(_without_nul)] = Field(
        "",
        description=(
            "Search: an org id or API user id (15 or 18 characters) matches exactly; "
            "anything else matches part of the account name or slug, or the API or legacy username."
        ),
        # A parameter's "examples" is a map in OpenAPI; django-ninja would copy a JSON Schema list there.
        json_schema_extra={"example": "acme", "pattern": WITHOUT_NUL},
    )
    sort: SortKey = Field(SortKey("account"), description="The order: a column, '-' first for descending.")
    cursor: Annotated[str, Field(max_length=500)] = Field(
        "", description="A `next_cursor` or `previous_cursor` from a page of the same query, or 'last'."
    )
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Links per page.")


class TokenApiUser(BaseModel):
    id: str = Field(description="The Salesforce user id, 18 characters.", examples=[USER_ID_EXAMPLE])
    username: str = Field(description="The Salesforce username VCC acts as.", examples=["api@acme.example"])


class AccessToken(BaseModel):
    """A working Salesforce access token for one account's link (never the refresh token behind it)."""

    access_token: str = Field(
        description="Send it as `Authorization: Bearer …` to `instance_url`; keep it out of logs. It stays "
        "valid until `expires_at` unless the link is unlinked or revoked in Salesforce."
    )
    token_type: str = Field("Bearer", description="Always Bearer.", examples=["Bearer"])
    expires_at: datetime = Field(
        description="When Salesforce will stop accepting it (the org's session timeout, read by introspection).",
        examples=[TIME_EXAMPLE],
    )
    instance_url: str = Field(description="The org's REST base URL.", examples=["https://acme.my.salesforce.com"])
    org_id: str = Field(description="The Salesforce organization id, 18 characters.", examples=[ORG_ID_EXAMPLE])
    org_type: OrgType = Field(description="production or sandbox.", examples=["production"])
    api_user: TokenApiUser
