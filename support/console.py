"""What the console's table needs besides its rows: each row's links, header links with their sort state,
pagination links and the export link, all carrying the filter state in the URL so a page can be shared as a
link."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from crm_admin.directory import DEFAULT_SORT, PAGE_SIZE, LinkQuery
from crm_admin.keyset import LAST, Page
from crm_admin.models import SalesforceLink

#: The table's columns: header text and the ``crm_admin.directory.ORDERINGS`` key each sorts by.
COLUMNS: list[tuple[str, str]] = [
    ("Account", "account"),
    ("Status", "status"),
    ("Org type", "org_type"),
    ("Org ID", "org_id"),
    ("API username", "api_username"),
    ("API user's accounts", "api_user_accounts"),
    ("Linked at", "linked_at"),
    ("Linked by", "linked_by"),
    ("Last health check", "health_checked_at"),
]
SORT_LABELS = {sort: label for label, sort in COLUMNS}


@dataclass(frozen=True)
class Header:
    label: str
    url: str
    #: The ``aria-sort`` value of the sorted column ("ascending" or "descending"); empty for the others.
    aria_sort: str


@dataclass(frozen=True)
class PageLink:
    label: str
    #: None when there is no such page (shown, but not as a link).
    url: str | None


#: Arguments the ``slug`` and ``str`` converters accept and URL quoting leaves as they are: slugs and
#: Salesforce ids. (``ReversedOnce`` is for URLs whose arguments use those two converters.)
_PLAIN_ARGUMENT = re.compile(r"[A-Za-z0-9_-]+")


class ReversedOnce:
    """A URL name reversed once for a whole table, each row's arguments then filled in.

    ``reverse()`` costs about 20 µs a call, and a console page links every row to its account and its API
    user: a hundred calls, a tenth of the page. A plain argument (letters, digits, ``-``, ``_``) filled into
    the URL reversed with placeholders gives exactly what ``reverse()`` gives; any other argument still goes
    through ``reverse()``, so an unusual value is refused (``NoReverseMatch``) or quoted as Django does.
    Make one per request: the URL carries the request's script prefix.
    """

    def __init__(self, viewname: str, *names: str) -> None:
        self.viewname = viewname
        placeholders = {name: f"__{name}__" for name in names}
        pattern = re.compile("|".join(re.escape(placeholder) for placeholder in placeholders.values()))
        by_placeholder = {placeholder: name for name, placeholder in placeholders.items()}
        url = reverse(viewname, kwargs=placeholders)
        #: The reversed URL cut at its placeholders: static text and argument names, in turn.
        self.pieces: list[tuple[str, str]] = []
        position = 0
        for match in pattern.finditer(url):
            self.pieces.append((url[position : match.start()], by_placeholder[match.group()]))
            position = match.end()
        self.tail = url[position:]

    def __call__(self, **arguments: str) -> str:
        if not all(_PLAIN_ARGUMENT.fullmatch(value) for value in arguments.values()):
            return reverse(self.viewname, kwargs=arguments)
        return "".join(text + arguments[name] for text, name in self.pieces) + self.tail


@dataclass(frozen=True, slots=True)
class Row:
    """One link of the table with the pages its row links to."""

    link: SalesforceLink
    account_url: str
    #: Empty for a link without an API user (unlinked, or legacy).
    api_user_url: str


def rows(links: Iterable[SalesforceLink]) -> list[Row]:
    """Return the table's rows, each with its account page and API user page."""
    account_url = ReversedOnce("support:account", "slug")
    api_user_url = ReversedOnce("support:api_user", "org_id", "user_id")
    return [
        Row(
            link=link,
            account_url=account_url(slug=link.account.slug),
            api_user_url=(
                api_user_url(org_id=link.api_user.org_id, user_id=link.api_user.user_id) if link.api_user else ""
            ),
        )
        for link in links
    ]


def query_params(query: LinkQuery) -> dict[str, str]:
    """Return the URL parameters that reproduce ``query``, defaults left out so links stay short."""
    params = {
        "q": query.q.strip(),
        "status": query.status,
        "org_type": query.org_type,
        "attention": {True: "yes", False: "no"}.get(query.needs_attention, ""),
        "sort": "" if query.sort == DEFAULT_SORT else query.sort,
        "dir": "desc" if query.descending else "",
        "size": "" if query.size == PAGE_SIZE else str(query.size),
        "cursor": query.cursor,
    }
    return {name: value for name, value in params.items() if value}


def url_for(base: str, query: LinkQuery, **changes: str) -> str:
    """Return ``base`` with the query string of ``query``, some parameters changed (an empty value drops one)."""
    params = {**query_params(query), **changes}
    kept = {name: value for name, value in params.items() if value}
    return f"{base}?{urlencode(kept)}" if kept else base


def headers(base: str, query: LinkQuery) -> list[Header]:
    """Return one header per column: the sorted one toggles its direction, the others sort ascending.

    Every header link starts again at the first page (a cursor belongs to one order).
    """
    result = []
    for label, sort in COLUMNS:
        sorted_here = sort == query.sort
        descending = sorted_here and not query.descending
        url = url_for(
            base, query, sort="" if sort == DEFAULT_SORT else sort, dir="desc" if descending else "", cursor=""
        )
        aria_sort = ("descending" if query.descending else "ascending") if sorted_here else ""
        result.append(Header(label=label, url=url, aria_sort=aria_sort))
    return result


def page_links(page: Page, url: Callable[[str], str]) -> list[PageLink]:
    """Return First, Previous, Next and Last, each a link (``url(cursor)``) unless the page is at that end."""
    return [
        PageLink("First", None if page.is_first else url("")),
        PageLink("Previous", None if page.is_first else url(page.previous_cursor or "")),
        PageLink("Next", None if page.is_last else url(page.next_cursor or "")),
        PageLink("Last", None if page.is_last else url(LAST)),
    ]
