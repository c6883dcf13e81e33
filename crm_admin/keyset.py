"""Keyset ("seek") pagination: pages that cost the same on the last page as on the first.

An ``OFFSET`` makes the database walk every row before the page; a keyset page starts from the last row
already shown (``WHERE (col, id) > (:col, :id) ORDER BY col, id LIMIT n``), so with an index on the
ordering columns every page, the last included, is one short index range scan. The last page is the
first page of the reversed order, read backwards.

Ordering columns end in a unique column. Only the first may hold NULLs; they sort after every value in
both directions, so "newest first" shows the never-linked last. Read backwards, a page's order is exactly
reversed (NULLs first). An ascending index serves ascending pages and their backward reads; descending
pages of a nullable column need an index in descending order with NULLs last (migration 0005).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy

T = TypeVar("T", bound=Model)

AFTER, BEFORE, LAST = "after", "before", "last"


class InvalidCursor(ValueError):
    """The cursor was not made by this module for this ordering (edited, truncated or stale)."""


@dataclass(frozen=True)
class Ordering:
    """The columns of one order, as ORM paths; the last is unique. ``nullable``: the first may be NULL."""

    columns: tuple[str, ...]
    nullable: bool = False
    #: Columns whose cursor values are datetimes (JSON carries them as ISO 8601 strings).
    datetimes: frozenset[str] = frozenset()

    def key(self, row: Model) -> list[Any]:
        values = []
        for column in self.columns:
            value: Any = row
            for part in column.split("__"):
                value = getattr(value, part)
            values.append(value.isoformat() if isinstance(value, datetime) else value)
        return values


@dataclass(frozen=True)
class Cursor:
    direction: str
    values: tuple[Any, ...] = ()

    @classmethod
    def decode(cls, raw: str, ordering: Ordering) -> Cursor:
        """Parse a cursor from a URL; an empty one is the first page, ``last`` the last."""
        if not raw:
            return cls(AFTER)
        if raw == LAST:
            return cls(LAST)
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
            direction, values = data["d"], data["k"]
        except (ValueError, TypeError, KeyError, UnicodeEncodeError, binascii.Error):
            raise InvalidCursor(raw) from None
        if direction not in (AFTER, BEFORE) or not isinstance(values, list) or len(values) != len(ordering.columns):
            raise InvalidCursor(raw)
        parsed = []
        for position, (column, value) in enumerate(zip(ordering.columns, values, strict=True)):
            if value is None and not (ordering.nullable and position == 0):
                raise InvalidCursor(raw)
            if (value is not None and not isinstance(value, str | int)) or isinstance(value, bool):
                raise InvalidCursor(raw)
            if isinstance(value, str) and "\x00" in value:  # PostgreSQL text cannot hold NUL: the query would fail
                raise InvalidCursor(raw)
            if value is not None and column in ordering.datetimes:
                try:
                    value = datetime.fromisoformat(value)
                except (TypeError, ValueError):
                    raise InvalidCursor(raw) from None
            parsed.append(value)
        return cls(direction, tuple(parsed))

    @staticmethod
    def encode(direction: str, values: Sequence[Any]) -> str:
        raw = json.dumps({"d": direction, "k": list(values)}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    #: Cursors for the neighbouring pages; None at either end.
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def is_first(self) -> bool:
        return self.previous_cursor is None

    @property
    def is_last(self) -> bool:
        return self.next_cursor is None


def keyset_page(queryset: QuerySet[T], *, ordering: Ordering, descending: bool, cursor: Cursor, size: int) -> Page[T]:
    """Return one page of ``queryset`` in the given order, starting at ``cursor``. One query."""
    backwards = cursor.direction in (BEFORE, LAST)
    ascending = descending == backwards  # the direction the index is scanned in
    nulls_last = not backwards  # last in the order shown, so first when it is read backwards
    if cursor.values:
        queryset = queryset.filter(_beyond(ordering, cursor.values, ascending, nulls_last))
    rows = list(queryset.order_by(*_order_by(ordering, ascending, nulls_last))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = (cursor.direction == BEFORE) if backwards else more
    has_previous = more if backwards else cursor.direction == AFTER and bool(cursor.values)
    return Page(
        rows=rows,
        next_cursor=Cursor.encode(AFTER, ordering.key(rows[-1])) if rows and has_next else None,
        previous_cursor=Cursor.encode(BEFORE, ordering.key(rows[0])) if rows and has_previous else None,
    )


def order_by(ordering: Ordering, *, descending: bool) -> list[OrderBy]:
    """The order a page shows (NULLs last either way), for a query that reads every row in it."""
    return _order_by(ordering, not descending, nulls_last=True)


def _order_by(ordering: Ordering, ascending: bool, nulls_last: bool) -> list[OrderBy]:
    first, *rest = ordering.columns
    direction = F(first).asc if ascending else F(first).desc
    if ordering.nullable:
        head = direction(nulls_last=True) if nulls_last else direction(nulls_first=True)
    else:
        head = direction()
    return [head, *(F(column).asc() if ascending else F(column).desc() for column in rest)]


def _beyond(ordering: Ordering, values: tuple[Any, ...], ascending: bool, nulls_last: bool) -> Q:
    """Rows strictly after ``values`` in the scan order (lexicographic, NULLs where ``nulls_last`` says)."""
    columns = ordering.columns
    greater = "gt" if ascending else "lt"
    first, first_value = columns[0], values[0]
    if ordering.nullable and first_value is None:
        tail = _lexicographic(columns[1:], values[1:], greater)
        after_nulls = Q(**{f"{first}__isnull": True}) & tail
        # After a NULL come only NULLs when they are last; every value too when they are first.
        return after_nulls if nulls_last else after_nulls | Q(**{f"{first}__isnull": False})
    condition = _lexicographic(columns, values, greater)
    # Redundant but index-friendly: lets the database start its range scan at the key.
    condition &= Q(**{f"{first}__{greater}e": first_value})
    if ordering.nullable and nulls_last:
        condition |= Q(**{f"{first}__isnull": True})
    return condition


def _lexicographic(columns: Sequence[str], values: Sequence[Any], greater: str) -> Q:
    """(c0, c1, …) > (v0, v1, …) written as ORs of equal prefixes, for databases without row values."""
    condition = Q()
    for position in range(len(columns)):
        step = Q(**{f"{columns[i]}": values[i] for i in range(position)})
        step &= Q(**{f"{columns[position]}__{greater}": values[position]})
        condition = step if position == 0 else condition | step
    return condition
