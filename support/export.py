"""The console's CSV export: the filtered table in its sort order, produced row by row.

Rows come from a chunked ``QuerySet.iterator`` (a server-side cursor on PostgreSQL), and each line is
yielded as soon as it is written, so 100,000 accounts never sit in memory at once.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.db.models.expressions import OrderBy

from crm_admin.directory import LinkQuery, links_matching
from crm_admin.keyset import order_by
from crm_admin.models import SalesforceLink

EXPORT_CHUNK_SIZE = 2000

HEADER = [
    "account_name",
    "account_slug",
    "status",
    "needs_attention",
    "attention_reason",
    "attention_since",
    "org_type",
    "org_id",
    "api_username",
    "api_user_id",
    "api_user_accounts",
    "legacy_username",
    "linked_at",
    "linked_by",
    "health",
    "health_checked_at",
]

#: OWASP "CSV Injection": a cell starting with one of these may be read as a formula by a spreadsheet.
#: Tab and carriage return too (they can hide a formula after them), and the full-width forms some
#: spreadsheets normalise to the ASCII ones.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: str) -> str:
    """Make a text cell inert in spreadsheets: prefix a formula-looking value with an apostrophe."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def _when(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def export_row(link: SalesforceLink) -> list[str]:
    """Return one CSV row for a link, every text cell neutralised."""
    cells = [
        link.account.name,
        link.account.slug,
        link.get_status_display(),
        "yes" if link.needs_attention else "no",
        link.attention_reason,
        _when(link.attention_since),
        link.get_org_type_display() if link.org_type else "",
        link.org_id,
        link.api_username,
        link.api_user.user_id if link.api_user else "",
        str(link.api_user_link_count) if link.api_user_id else "",
        link.legacy_username,
        _when(link.linked_at),
        link.linked_by_username,
        link.get_health_display() if link.health else "",
        _when(link.health_checked_at),
    ]
    return [spreadsheet_safe(cell) for cell in cells]


def export_order(query: LinkQuery) -> list[OrderBy]:
    """Return the table's order for the query, as the pages show it."""
    return order_by(query.ordering, descending=query.descending)


class _Line:
    """A file-like object that hands back what ``csv.writer`` writes instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def export_lines(query: LinkQuery) -> Iterator[str]:
    """Yield the CSV lines of every link the query matches, header first, fetched ``EXPORT_CHUNK_SIZE`` at a time."""
    writer = csv.writer(_Line())
    yield writer.writerow(HEADER)
    links = links_matching(query).order_by(*export_order(query))
    for link in links.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield writer.writerow(export_row(link))
