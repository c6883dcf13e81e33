"""Legacy import: the happy path, idempotence, dry runs, secret columns, bad rows, all-or-nothing."""

from __future__ import annotations

import io

import pytest
from django.forms.models import model_to_dict

from crm_admin.exceptions import LinkError
from crm_admin.models import Account, LinkEvent, LinkEventAction, LinkStatus, SalesforceLink
from crm_admin.salesforce import ids
from crm_admin.services import legacy_import
from crm_admin.services.legacy_import import LegacyImportError, legacy_links_import, secret_hint
from crm_admin.services.links import link_mark_legacy
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db

HEADER = "account slug,account name,org type,legacy username,org id"
ORG_15 = "00D000000000AbC"
SECRET = "S3cr3t-Value-Never-Echoed!"


def lines(*rows: str, header: str = HEADER) -> io.StringIO:
    return io.StringIO("\r\n".join([header, *rows]) + "\r\n", newline="")


def state() -> tuple:
    """Everything the import may touch."""
    return (
        sorted(Account.objects.values_list("slug", "name")),
        sorted(
            SalesforceLink.objects.values_list(
                "account__slug", "status", "legacy_username", "org_type", "org_id", "search_text"
            )
        ),
        LinkEvent.objects.count(),
    )


@pytest.fixture
def existing(db):
    """An Unlinked account, a Legacy one as the file says, a Legacy one the file changes."""
    AccountFactory(slug="unlinked", name="Still Unlinked")
    same = AccountFactory(slug="same", name="Same Legacy")
    link_mark_legacy(account=same, legacy_username="old@same.example", org_type="production")
    changed = AccountFactory(slug="changed", name="Changed Legacy")
    link_mark_legacy(account=changed, legacy_username="old@changed.example", org_type="production")


FILE = [
    f"new-one,New One,Production,api@new.example,{ORG_15}",
    "unlinked,Ignored Name,sandbox,api@unlinked.example,",
    "same,Same Legacy,production,old@same.example,",
    "changed,Changed Legacy,sandbox,old@changed.example,",
]


def test_happy_path_creates_updates_and_leaves_alone(existing):
    events_before = LinkEvent.objects.count()
    same_events = LinkEvent.objects.filter(account__slug="same").count()
    report = legacy_links_import(lines=lines(*FILE))
    assert (report.created, report.updated, report.unchanged, report.bad) == (1, 2, 1, [])
    assert report.written

    new = SalesforceLink.objects.select_related("account").get(account__slug="new-one")
    assert new.account.name == "New One"
    assert (new.status, new.legacy_username, new.org_type, new.org_id) == (
        LinkStatus.LEGACY,
        "api@new.example",
        "production",
        ids.to_18(ORG_15),
    )
    assert "new one" in new.search_text and "api@new.example" in new.search_text

    unlinked = SalesforceLink.objects.select_related("account").get(account__slug="unlinked")
    assert (unlinked.status, unlinked.org_type, unlinked.legacy_username) == (
        "legacy",
        "sandbox",
        "api@unlinked.example",
    )
    assert unlinked.account.name == "Still Unlinked", "an existing account keeps its name"
    assert SalesforceLink.objects.get(account__slug="changed").org_type == "sandbox"
    # One audit row per changed account, none for the unchanged one.
    assert LinkEvent.objects.count() == events_before + 3
    assert LinkEvent.objects.filter(account__slug="same").count() == same_events


def test_an_account_created_by_the_import_looks_exactly_like_one_marked_legacy_by_the_service():
    legacy_links_import(lines=lines(f"bulk,Same Name,production,api@x.example,{ORG_15}"))
    by_service = AccountFactory(slug="service", name="Same Name")
    link_mark_legacy(
        account=by_service, legacy_username="api@x.example", org_type="production", org_id=ids.to_18(ORG_15)
    )
    ignored = {"id", "account", "search_text", "updated_at"}

    def shape(slug: str) -> tuple:
        link = SalesforceLink.objects.get(account__slug=slug)
        event = LinkEvent.objects.get(account__slug=slug)
        fields = {k: v for k, v in model_to_dict(link).items() if k not in ignored}
        return fields, link.search_text.replace(slug, "<slug>"), (event.action, event.detail, event.actor_id)

    assert shape("bulk") == shape("service")
    assert LinkEvent.objects.get(account__slug="bulk").action == LinkEventAction.LEGACY_SET


def test_importing_the_same_file_again_changes_nothing(existing):
    legacy_links_import(lines=lines(*FILE))
    after_first = state()
    report = legacy_links_import(lines=lines(*FILE))
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert not report.written
    assert state() == after_first


def test_a_dry_run_reports_and_writes_nothing(existing):
    before = state()
    report = legacy_links_import(lines=lines(*FILE), dry_run=True)
    assert (report.created, report.updated, report.unchanged, report.bad) == (1, 2, 1, [])
    assert not report.written
    assert state() == before


def test_a_dry_run_reports_bad_rows_too(existing):
    report = legacy_links_import(lines=lines(*FILE, "Bad Slug,x,production,a@b.example,"), dry_run=True)
    assert [bad.line for bad in report.bad] == [6]


# --- Secret columns -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    [
        "password",
        "Password",
        "PASSWORD",
        "Salesforce password",
        "sf_pass",
        "pwd",
        "Passwd",
        "Security Token",
        "security_token",
        "SecurityToken",
        "securitytoken",
        "Consumer Secret",
        "consumer-secret",
        "Client Secret",
        "Refresh Token",
        "access_token",
        "API Key",
        "Private Key",
        "Session ID",
        "Credentials",
        "Passphrase",
    ],
)
def test_a_secret_column_rejects_the_whole_file_without_echoing_it(existing, column):
    before = state()
    with pytest.raises(LegacyImportError) as raised:
        legacy_links_import(
            lines=lines(f"new-one,New One,production,api@new.example,,{SECRET}", header=f"{HEADER},{column}")
        )
    message = str(raised.value)
    assert "Column 6 looks like a secret" in message and "Nothing was imported" in message
    assert SECRET not in message
    assert state() == before


@pytest.mark.parametrize(
    "column", ["account slug", "Account Name", "Org Type", "Legacy Username", "Org ID", "notes", "created"]
)
def test_ordinary_columns_are_not_taken_for_secrets(column):
    assert secret_hint(column) == ""


def test_a_secret_column_is_refused_even_in_a_dry_run_and_before_any_row_is_read():
    with pytest.raises(LegacyImportError, match="looks like a secret"):
        legacy_links_import(lines=lines('"broken', header=f"password,{HEADER}"), dry_run=True)


def test_a_headerless_file_does_not_echo_its_first_row():
    first_row = f"acme,Acme,production,api@acme.example,{SECRET}token"
    with pytest.raises(LegacyImportError) as raised:
        legacy_links_import(lines=io.StringIO(first_row + "\n"))
    assert SECRET not in str(raised.value)


# --- Whole-file errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("account slug,account name,legacy username\r\n", "Missing column(s): org_type"),
        (f"{HEADER},slug\r\n", "appears twice"),
        (f"{HEADER}\r\nacme,{'A' * 200_000},production,a@b.example,\r\n", "not valid CSV near line 2"),
    ],
)
def test_a_file_that_cannot_be_imported_says_why(text, message):
    with pytest.raises(LegacyImportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        legacy_links_import(lines=io.StringIO(text, newline=""))


def test_header_spellings_are_recognised_and_unknown_columns_ignored():
    report = legacy_links_import(
        lines=lines(
            "acme,Acme,production,api@acme.example,,kept elsewhere",
            header="AccountSlug,Account_Name,ORG TYPE,legacy-username,OrgId,Notes",
        )
    )
    assert report.created == 1 and report.ignored_columns == ["Notes"]


def test_the_org_id_column_is_optional():
    report = legacy_links_import(
        lines=lines("acme,Acme,sandbox,api@acme.example", header="slug,name,org type,legacy username")
    )
    assert report.created == 1
    assert SalesforceLink.objects.get(account__slug="acme").org_id == ""


# --- Bad rows -----------------------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_imported(existing):
    linked = AccountFactory(slug="linked", name="Linked")
    make_linked(linked, ApiUserFactory())
    before = state()
    report = legacy_links_import(
        lines=lines(
            "good,Good,production,api@good.example,",  # line 2: fine, but not imported either
            "Bad Slug,Bad,production,api@bad.example,",  # 3
            "no-name,\x00,production,api@bad.example,",  # 4: a control character
            "bad-type,Bad Type,staging,api@bad.example,",  # 5
            "bad-user,Bad User,production,not a username,",  # 6
            f"bad-org,Bad Org,production,api@bad.example,{ORG_15}ZZZ",  # 7: wrong checksum
            "bad-org2,Bad Org,production,api@bad.example,005000000000001AAA",  # 8: a user id
            "short,Short,production",  # 9
            "",  # 10: blank, skipped
            "good,Good again,production,api@good.example,",  # 11: repeated slug
            "linked,Linked,production,api@linked.example,",  # 12: has an OAuth link
        )
    )
    messages = {bad.line: bad.message for bad in report.bad}
    assert sorted(messages) == [3, 4, 5, 6, 7, 8, 9, 11, 12]
    assert "slug" in messages[3] and "name" in messages[4] and "org type" in messages[5]
    assert "username" in messages[6] and "org id" in messages[7] and "org id" in messages[8]
    assert "fields" in messages[9] and "line 2" in messages[11] and "OAuth link" in messages[12]
    assert str(report.bad[0]).startswith("line 3: ")
    assert not report.written
    assert state() == before
    for bad in report.bad:
        assert "not a username" not in bad.message and "staging" not in bad.message


def test_line_numbers_count_physical_lines_of_quoted_multi_line_cells():
    report = legacy_links_import(
        lines=lines(
            'multi,Multi,production,api@multi.example,,"a note\r\non two lines"',
            "BAD,x,production,a@b.example,,",
            header=f"{HEADER},notes",
        )
    )
    assert [bad.line for bad in report.bad] == [4]


def test_a_failure_while_writing_rolls_back_the_whole_file(existing, monkeypatch):
    calls = []

    def fail_on_second(**kwargs):
        calls.append(kwargs["account"].slug)
        if len(calls) == 2:
            raise LinkError("This account has an OAuth link; unlink it before recording a legacy link.")
        return link_mark_legacy(**kwargs)

    monkeypatch.setattr(legacy_import, "link_mark_legacy", fail_on_second)
    before = state()
    with pytest.raises(LinkError):
        legacy_links_import(lines=lines(*FILE))
    assert len(calls) == 2
    assert state() == before, "the created account and the first update were rolled back"


def test_progress_is_reported_up_to_the_number_of_changes(existing, monkeypatch):
    monkeypatch.setattr(legacy_import, "BULK_SIZE", 2)
    seen: list[tuple[int, int]] = []
    rows = [f"bulk-{n},Bulk {n},production,api{n}@bulk.example," for n in range(5)]
    legacy_links_import(lines=lines(*FILE, *rows), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 8), (4, 8), (6, 8), (7, 8), (8, 8)]
