"""Import accounts linked by the old method from a CSV file (``manage.py import_legacy_links``).

One row per VCC account: account slug, account name, org type, legacy username and, optionally, the org
id (15 or 18 characters; stored as 18). Missing accounts are created; every listed account ends up
**Legacy** with the row's username, org type and org id. The file is the desired state, so importing it
again changes nothing.

All or nothing: the whole file is checked first and written in one transaction only when no row is bad.
A column that looks like a secret rejects the file before any row is read: VCC keeps no Salesforce
credentials, so such values are never stored, logged or echoed. Error messages quote no raw cell.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import transaction

from crm_admin.models import Account, LinkEvent, LinkEventAction, LinkStatus, OrgType, SalesforceLink
from crm_admin.salesforce import ids
from crm_admin.services.accounts import SLUG_RE
from crm_admin.services.links import link_mark_legacy
from crm_admin.services.listing import link_search_text

#: Accepted spellings of each column, compared without case, spaces or punctuation.
COLUMNS: dict[str, frozenset[str]] = {
    "slug": frozenset({"accountslug", "slug", "vccaccountslug"}),
    "name": frozenset({"accountname", "name", "displayname", "vccaccountname"}),
    "org_type": frozenset({"orgtype", "organizationtype", "organisationtype", "type"}),
    "legacy_username": frozenset({"legacyusername", "username", "apiusername", "salesforceusername", "sfusername"}),
    "org_id": frozenset({"orgid", "organizationid", "organisationid", "salesforceorgid", "sforgid"}),
}
REQUIRED = ("slug", "name", "org_type", "legacy_username")

#: A header containing one of these (without case, spaces or punctuation) names a credential.
SECRET_FRAGMENTS = (
    "password",
    "passwd",
    "passwort",
    "passphrase",
    "motdepasse",
    "pwd",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "accesskey",
    "authkey",
    "credential",
    "sessionid",
)
#: ... or one of these as a whole word ("SF pass", "PW", "Key").
SECRET_WORDS = frozenset({"pass", "pw", "key", "sid"})

#: Rows per bulk insert when creating accounts.
BULK_SIZE = 1000
MAX_NAME = Account._meta.get_field("name").max_length
MAX_SLUG = Account._meta.get_field("slug").max_length
MAX_USERNAME = SalesforceLink._meta.get_field("legacy_username").max_length


class LegacyImportError(ValueError):
    """The file as a whole cannot be imported (a secret column, missing columns, not CSV text)."""


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class LegacyRow:
    line: int
    slug: str
    name: str
    org_type: str
    legacy_username: str
    org_id: str


@dataclass(frozen=True)
class BadRow:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[BadRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def written(self) -> bool:
        """Whether the database was changed (a clean file, not a dry run, with something to change)."""
        return not self.dry_run and not self.bad and bool(self.created or self.updated)


def _compact(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def secret_hint(header: str) -> str:
    """Return the word that makes a column header name a credential (password, token, key, …); "" if none."""
    compact = _compact(header)
    words = re.split(r"[^a-z0-9]+", header.lower())
    found = [fragment for fragment in SECRET_FRAGMENTS if fragment in compact]
    found += [word for word in words if word in SECRET_WORDS]
    return found[0] if found else ""


def header_columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map each known column to its position; return it with the headers that are ignored.

    Raise ``LegacyImportError`` for a secret-looking, repeated or missing column.
    """
    for position, name in enumerate(header, start=1):
        # The header is not echoed: in a file without a header row it would be a value.
        if hint := secret_hint(name):
            raise LegacyImportError(
                f"Column {position} looks like a secret (its header contains '{hint}'). VCC keeps no Salesforce "
                "credentials: remove that column from the file (and delete the copies that hold it), then import "
                "again. Nothing was imported."
            )
    positions: dict[str, int] = {}
    ignored = []
    for position, name in enumerate(header):
        column = next((key for key, spellings in COLUMNS.items() if _compact(name) in spellings), None)
        if column is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        if column in positions:
            raise LegacyImportError(f"The column '{name.strip()}' appears twice. Nothing was imported.")
        positions[column] = position
    missing = [column for column in REQUIRED if column not in positions]
    if missing:
        raise LegacyImportError(
            f"Missing column(s): {', '.join(missing)}. Expected a header row with "
            "account slug, account name, org type, legacy username and optionally org id. Nothing was imported."
        )
    return positions, ignored


def _row(line: int, cells: list[str], positions: dict[str, int]) -> LegacyRow | BadRow:
    """Validate one data row; a message names the column at fault but never repeats its value."""
    value = {column: cells[position].strip() for column, position in positions.items()}
    slug, name, username = value["slug"], value["name"], value["legacy_username"]
    if not SLUG_RE.fullmatch(slug) or len(slug) > MAX_SLUG:
        return BadRow(line, f"account slug is not valid: use up to {MAX_SLUG} lower-case letters, digits and hyphens")
    if not name or len(name) > MAX_NAME or not name.isprintable():
        return BadRow(line, f"account name is empty, longer than {MAX_NAME} characters or has control characters")
    org_type = value["org_type"].lower()
    if org_type not in OrgType.values:
        return BadRow(line, "org type must be production or sandbox")
    if (
        not username
        or len(username) > MAX_USERNAME
        or "@" not in username
        or not username.isprintable()
        or " " in username
    ):
        return BadRow(line, "legacy username must be a Salesforce username (name@domain, no spaces)")
    org_id = value.get("org_id", "")
    if org_id:
        try:
            org_id = ids.canonical(org_id)
        except ValueError:
            org_id = ""
        if not org_id.startswith(ids.ORGANIZATION_PREFIX):
            return BadRow(line, "org id must be a 15- or 18-character Salesforce organization id (00D…)")
    return LegacyRow(line, slug, name, org_type, username, org_id)


def legacy_rows_read(lines: Iterable[str]) -> tuple[list[LegacyRow], list[BadRow], list[str]]:
    """Parse and check the CSV text: the good rows, the bad ones and the ignored columns.

    Raise ``LegacyImportError`` when the file as a whole is unusable.
    """
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None:
            raise LegacyImportError("The file is empty. Nothing was imported.")
        positions, ignored = header_columns(header)
        rows: list[LegacyRow] = []
        bad: list[BadRow] = []
        first_line: dict[str, int] = {}
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                checked = (
                    _row(line, cells, positions)
                    if len(cells) == len(header)
                    else BadRow(line, f"has {len(cells)} fields; the header has {len(header)}")
                )
                if isinstance(checked, LegacyRow) and (seen := first_line.get(checked.slug)):
                    checked = BadRow(line, f"account '{checked.slug}' already appears on line {seen}")
                if isinstance(checked, BadRow):
                    bad.append(checked)
                else:
                    first_line[checked.slug] = line
                    rows.append(checked)
            line = reader.line_num + 1
    except UnicodeDecodeError:
        raise LegacyImportError("The file is not UTF-8 text. Nothing was imported.") from None
    except csv.Error as error:
        raise LegacyImportError(f"The file is not valid CSV near line {reader.line_num}: {error}.") from None
    return rows, bad, ignored


def _plan(rows: list[LegacyRow], bad: list[BadRow]) -> list[tuple[LegacyRow, Outcome, Account | None]]:
    """Decide each row's outcome against the database (reads only, a chunk of slugs per query)."""
    existing: dict[str, Account] = {}
    slugs = [row.slug for row in rows]
    for start in range(0, len(slugs), 500):
        chunk = slugs[start : start + 500]
        existing.update(
            (account.slug, account)
            for account in Account.objects.filter(slug__in=chunk).select_related("salesforce_link")
        )
    plan = []
    for row in rows:
        account = existing.get(row.slug)
        link: SalesforceLink | None = getattr(account, "salesforce_link", None) if account else None
        if account is None:
            plan.append((row, Outcome.CREATED, None))
        elif link is not None and link.status == LinkStatus.LINKED:
            bad.append(
                BadRow(row.line, f"account '{row.slug}' has an OAuth link (Linked): leave it out, or unlink it first")
            )
        elif (
            link is not None
            and link.status == LinkStatus.LEGACY
            and (link.legacy_username, link.org_type, link.org_id) == (row.legacy_username, row.org_type, row.org_id)
        ):
            plan.append((row, Outcome.UNCHANGED, account))
        else:
            plan.append((row, Outcome.UPDATED, account))
    return plan


def legacy_links_import(
    *,
    lines: Iterable[str],
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check the file, then (unless ``dry_run`` or a row is bad) write it in one transaction.

    ``progress(done, total)`` is called as rows are written. Raise ``LegacyImportError`` for a file
    that cannot be imported at all; ``AccountError``/``LinkError`` when an account changed under the
    import (then nothing is written).
    """
    rows, bad, ignored = legacy_rows_read(lines)
    plan = _plan(rows, bad)
    report = ImportReport(dry_run=dry_run, bad=sorted(bad, key=lambda row: row.line), ignored_columns=ignored)
    for _, outcome, _ in plan:
        setattr(report, outcome.value, getattr(report, outcome.value) + 1)
    if dry_run or report.bad:
        return report
    created = [row for row, outcome, _ in plan if outcome == Outcome.CREATED]
    updated = [(row, account) for row, outcome, account in plan if outcome == Outcome.UPDATED]
    total = len(created) + len(updated)
    with transaction.atomic():
        for start in range(0, len(created), BULK_SIZE):
            _accounts_create_legacy(created[start : start + BULK_SIZE])
            if progress:
                progress(min(start + BULK_SIZE, len(created)), total)
        for done, (row, account) in enumerate(updated, start=len(created) + 1):
            link_mark_legacy(
                account=account, legacy_username=row.legacy_username, org_type=row.org_type, org_id=row.org_id
            )
            if progress:
                progress(done, total)
    return report


def _accounts_create_legacy(rows: list[LegacyRow]) -> None:
    """Create accounts that are Legacy from the start: what ``account_create`` then ``link_mark_legacy``
    write (account, link, audit row), as three bulk inserts per chunk instead of ten queries per row.

    A new account has no link to lock or clear, so nothing else of those services applies.
    """
    accounts = Account.objects.bulk_create([Account(slug=row.slug, name=row.name) for row in rows])
    links = []
    for account, row in zip(accounts, rows, strict=True):
        link = SalesforceLink(
            account=account,
            status=LinkStatus.LEGACY,
            legacy_username=row.legacy_username,
            org_type=row.org_type,
            org_id=row.org_id,
        )
        link.search_text = link_search_text(account=account, link=link)
        links.append(link)
    SalesforceLink.objects.bulk_create(links)
    LinkEvent.objects.bulk_create(
        LinkEvent(
            account=account,
            action=LinkEventAction.LEGACY_SET,
            detail=_legacy_event_detail(row),
        )
        for account, row in zip(accounts, rows, strict=True)
    )


def _legacy_event_detail(row: LegacyRow) -> dict[str, str]:
    """Return the audit detail ``link_mark_legacy`` records (tests hold the two to the same shape)."""
    detail = {"legacy_username": row.legacy_username, "org_type": row.org_type}
    if row.org_id:
        detail["org_id"] = row.org_id
    return detail
