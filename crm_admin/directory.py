"""The link directory: every VCC account's Salesforce link, filtered, searched, sorted and paged.

Read by the support console (``/support/links/``) and the status API (``/api/v1/salesforce-links``), so
both give the same answers. Built to stay fast at 100,000 accounts:

- One row per account lives in ``SalesforceLink``, with copies of the API user's org id, its "n of 5"
  and the linking user's name (``crm_admin.services.listing``), so every sort but the account name is an
  index on this table; the account name sorts by the ``(name, slug)`` index of ``Account``.
- Pages are keyset pages (``crm_admin.keyset``): the last page costs what the first does.
- Search picks one indexed predicate by the shape of the text: an org id (15 or 18 characters) or a user
  id matches exactly through a b-tree index; anything else is a substring of ``search_text`` (slug,
  name, usernames), which PostgreSQL answers from a trigram GIN index (migration 0003). SQLite has no
  trigram index and scans the table: fine at development sizes.
- A page is two queries, the rows and their count, whatever the size of the table; without a search or
  org-type filter the count comes from the cached status summary instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet

from crm_admin.keyset import Cursor, Ordering, Page, keyset_page
from crm_admin.models import LinkStatus, OrgType, SalesforceLink
from crm_admin.salesforce import ids

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
#: How long the status counts of the support home page may be stale (they cost a scan of the table).
SUMMARY_CACHE_SECONDS = 30
SUMMARY_CACHE_KEY = "crm_admin:directory:summary:v1"

#: The sortable columns by their name in URLs, each with its keyset ordering.
ORDERINGS: dict[str, Ordering] = {
    "account": Ordering(("account__name", "account__slug")),
    "status": Ordering(("status", "id")),
    "org_type": Ordering(("org_type", "id")),
    "org_id": Ordering(("org_id", "id")),
    "api_username": Ordering(("api_username", "id")),
    "api_user_accounts": Ordering(("api_user_link_count", "id")),
    "linked_at": Ordering(("linked_at", "id"), nullable=True, datetimes=frozenset({"linked_at"})),
    "linked_by": Ordering(("linked_by_username", "id")),
    "health_checked_at": Ordering(
        ("health_checked_at", "id"), nullable=True, datetimes=frozenset({"health_checked_at"})
    ),
}
DEFAULT_SORT = "account"


@dataclass(frozen=True)
class LinkQuery:
    """What a support engineer asked for; every field comes from the URL and is validated here."""

    status: str = ""
    org_type: str = ""
    needs_attention: bool | None = None
    q: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = False
    cursor: str = ""
    size: int = PAGE_SIZE

    def __post_init__(self) -> None:
        if self.status and self.status not in LinkStatus.values:
            raise ValueError(f"Unknown status '{self.status}'.")
        if self.org_type and self.org_type not in OrgType.values:
            raise ValueError(f"Unknown org type '{self.org_type}'.")
        if self.sort not in ORDERINGS:
            raise ValueError(f"Unknown sort column '{self.sort}'.")
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise ValueError(f"Page size must be between 1 and {MAX_PAGE_SIZE}.")

    @property
    def ordering(self) -> Ordering:
        return ORDERINGS[self.sort]


@dataclass(frozen=True)
class DirectoryPage:
    page: Page[SalesforceLink]
    #: How many links match the filters and search (all pages).
    total: int

    @property
    def rows(self) -> list[SalesforceLink]:
        return self.page.rows


def search_condition(text: str) -> Q:
    """The one indexed predicate for a search box's text (see the module docstring)."""
    text = text.strip()
    if not text:
        return Q()
    try:
        record_id = ids.canonical(text)
    except ValueError:
        record_id = ""
    if record_id.startswith(ids.ORGANIZATION_PREFIX):
        return Q(org_id=record_id)
    if record_id.startswith(ids.USER_PREFIX):
        return Q(api_user__user_id=record_id)
    return Q(search_text__contains=text.lower())


def links_matching(query: LinkQuery) -> QuerySet[SalesforceLink]:
    """Every link the filters and search select, unordered, with what a listing row shows."""
    condition = search_condition(query.q)
    if query.status:
        condition &= Q(status=query.status)
    if query.org_type:
        condition &= Q(org_type=query.org_type)
    if query.needs_attention is not None:
        condition &= Q(attention_since__isnull=not query.needs_attention)
    return SalesforceLink.objects.filter(condition).select_related("account", "api_user")


def links_page(query: LinkQuery) -> DirectoryPage:
    """One keyset page of the directory; raises ``keyset.InvalidCursor`` for a cursor that is not ours."""
    cursor = Cursor.decode(query.cursor, query.ordering)
    matching = links_matching(query)
    page = keyset_page(matching, ordering=query.ordering, descending=query.descending, cursor=cursor, size=query.size)
    return DirectoryPage(page=page, total=_total(query, matching))


def _total(query: LinkQuery, matching: QuerySet[SalesforceLink]) -> int:
    """Count the matches; without a search or org-type filter the cached summary already knows it.

    Counting every link costs a scan of the table, more than the page itself at 100,000 accounts; the
    summary is at most ``SUMMARY_CACHE_SECONDS`` old, which a total shown beside a page can afford.
    """
    if query.q.strip() or query.org_type:
        return matching.count()
    summary = links_summary()
    if query.needs_attention is None:
        return summary.by_status[query.status] if query.status else summary.total
    if query.needs_attention and query.status in ("", LinkStatus.LINKED):
        return summary.needs_attention  # only Linked links can need attention
    return matching.count()


@dataclass(frozen=True)
class Summary:
    """Counts for the support home page."""

    by_status: dict[str, int] = field(default_factory=dict)
    needs_attention: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def links_summary() -> Summary:
    """Accounts by link status and how many need attention, cached for ``SUMMARY_CACHE_SECONDS``.

    Counting is a scan of the link table; the cache keeps the home page's cost flat at any size.
    """
    cached: dict[str, Any] | None = cache.get(SUMMARY_CACHE_KEY)
    if cached is None:
        rows = SalesforceLink.objects.values_list("status").annotate(
            accounts=Count("id"), attention=Count("id", filter=Q(attention_since__isnull=False))
        )
        by_status = dict.fromkeys(LinkStatus.values, 0)
        attention = 0
        for status, accounts, needing in rows.order_by():
            by_status[status] = accounts
            attention += needing
        cached = {"by_status": by_status, "needs_attention": attention}
        cache.set(SUMMARY_CACHE_KEY, cached, SUMMARY_CACHE_SECONDS)
    return Summary(by_status=cached["by_status"], needs_attention=cached["needs_attention"])
