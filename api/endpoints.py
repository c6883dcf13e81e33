"""The API, version 1: read-only views of every VCC account's Salesforce link (here), and access tokens
for VCC's backends (``api.access_tokens``, the one operation that is not a read).

Endpoint functions only parse, call a selector and present; access rules live in ``api.selectors``.
"""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import NinjaAPI, Path, Query
from ninja.errors import HttpError, ValidationError

from api import access_tokens, errors, presenters, schemas
from api.auth import READ_ACCESS
from api.selectors import account_with_link, api_user_accounts, directory_access_check
from crm_admin import directory
from crm_admin.keyset import InvalidCursor
from crm_admin.salesforce import ids
from crm_admin.selectors import link_events_for_account

RECENT_EVENTS = 10
BAD_CURSOR = "Invalid cursor: pass a next_cursor or previous_cursor of the same query, or 'last'."

api = NinjaAPI(
    title="VCC CRM Admin status API",
    version="1",
    urls_namespace="api-v1",
    description=(
        "Every VCC account's Salesforce link, its health and history (read-only), and working Salesforce "
        "access tokens for VCC's backends (`token` scope).\n\n"
        "Authenticate with a service API key (`Authorization: Bearer vcc_…`, from "
        "`manage.py api_key create NAME --scope read`), or with a portal session, which sees what the "
        "portal's pages show. Errors are JSON objects with a `detail` message."
    ),
    auth=READ_ACCESS,
)
errors.install_handlers(api)
api.add_router("", access_tokens.router)

UNAUTHENTICATED = {401: schemas.Error}
FORBIDDEN = {403: schemas.Error}
NOT_FOUND = {404: schemas.Error}
INVALID = {422: schemas.ValidationFailure}

OrgId = Annotated[
    str,
    Path(pattern=r"^00[Dd][a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$", description="The organization id, 15 or 18 characters."),
]
UserId = Annotated[
    str, Path(pattern=r"^005[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$", description="The user id, 15 or 18 characters.")
]


@api.get(
    "/accounts/{slug}/salesforce-link",
    response={200: schemas.LinkDetail, **UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND},
    operation_id="get_salesforce_link",
    summary="One account's Salesforce link",
    tags=["links"],
)
def salesforce_link(request: HttpRequest, slug: str) -> schemas.LinkDetail:
    """Return the account's link: status, org, API user, health, and its latest events.

    An account admin's session sees only their own accounts: any other slug answers 404, as a missing one.
    """
    account, link = account_with_link(caller=request.auth, slug=slug)
    events = link_events_for_account(account=account, limit=RECENT_EVENTS)
    return presenters.link_detail_out(account, link, events)


@api.get(
    "/salesforce-links",
    response={200: schemas.LinkPage, 400: schemas.Error, **UNAUTHENTICATED, **FORBIDDEN, **INVALID},
    operation_id="list_salesforce_links",
    summary="Every account's link, filtered and paged",
    tags=["links"],
)
def salesforce_links(request: HttpRequest, filters: Query[schemas.LinkFilters]) -> schemas.LinkPage:
    """List links as the support console does, one page at a time (follow `next_cursor`)."""
    directory_access_check(caller=request.auth)
    query = directory.LinkQuery(
        status=filters.status or "",
        org_type=filters.org_type or "",
        needs_attention=filters.needs_attention,
        q=filters.q,
        sort=filters.sort.value.lstrip("-"),
        descending=filters.sort.value.startswith("-"),
        cursor=filters.cursor,
        size=filters.limit,
    )
    try:
        result = directory.links_page(query)
    except InvalidCursor:
        raise HttpError(400, BAD_CURSOR) from None
    return schemas.LinkPage(
        items=[presenters.link_summary_out(link) for link in result.rows],
        total=result.total,
        next_cursor=result.page.next_cursor,
        previous_cursor=result.page.previous_cursor,
    )


@api.get(
    "/api-users/{org_id}/{user_id}",
    response={200: schemas.ApiUserDetail, **UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND, **INVALID},
    operation_id="get_api_user",
    summary="A Salesforce API user and the accounts it serves",
    tags=["api users"],
)
def api_user(request: HttpRequest, org_id: OrgId, user_id: UserId) -> schemas.ApiUserDetail:
    """Return the API user's (up to five) VCC accounts and the Salesforce approval slot each holds.

    An 18-character id may come in any case; one whose last three characters are not its checksum is a 422.
    """
    directory_access_check(caller=request.auth)
    found = api_user_accounts(org_id=_canonical_id(org_id, "org_id"), user_id=_canonical_id(user_id, "user_id"))
    return presenters.api_user_detail_out(found.api_user, found.links)


def _canonical_id(value: str, name: str) -> str:
    """Return the 18-character form of a well-formed 15- or 18-character id; raise a 422 for a bad checksum."""
    try:
        return ids.canonical(value)
    except ValueError as error:
        raise ValidationError([{"loc": ("path", name), "msg": str(error)}]) from None
