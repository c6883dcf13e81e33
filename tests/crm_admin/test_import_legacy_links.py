"""``manage.py import_legacy_links FILE.csv [--dry-run]``: what the operator sees and the exit status."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm_admin.models import Account, LinkEvent, LinkStatus, SalesforceLink

pytestmark = pytest.mark.django_db

HEADER = "account slug,account name,org type,legacy username,org id"
SECRET = "Tr0ub4dor-Secret-Token"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def write(tmp_path: Path, *rows: str, header: str = HEADER, encoding: str = "utf-8") -> Path:
    path = tmp_path / "legacy.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


def run(path: Path, *args: str, stdout: io.StringIO | None = None) -> tuple[str, str]:
    out, err = stdout or io.StringIO(), io.StringIO()
    call_command("import_legacy_links", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


ROWS = [
    "acme,Acme Contact Center,production,api@acme.example,00D000000000AbC",
    "globex,Globex,sandbox,api@globex.example,",
]


def test_import_prints_a_summary(tmp_path):
    out, err = run(write(tmp_path, *ROWS))
    assert "Created 2, updated 0, unchanged 0, bad 0." in out and err == ""
    assert set(SalesforceLink.objects.values_list("status", flat=True)) == {LinkStatus.LEGACY}
    out, _ = run(write(tmp_path, *ROWS))
    assert "Created 0, updated 0, unchanged 2, bad 0." in out


def test_dry_run_says_so_and_writes_nothing(tmp_path):
    out, _ = run(write(tmp_path, *ROWS), "--dry-run")
    assert "Created 2, updated 0, unchanged 0, bad 0." in out and "Dry run: nothing was written." in out
    assert not Account.objects.exists() and not LinkEvent.objects.exists()


def test_bad_rows_are_listed_with_line_numbers_and_the_command_fails(tmp_path):
    path = write(tmp_path, *ROWS, "Not A Slug,x,production,a@b.example,", "ok,Ok,mainframe,a@b.example,")
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 bad row"):
        call_command("import_legacy_links", str(path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "line 4: account slug is not valid: use up to 63 lower-case letters, digits and hyphens",
        "line 5: org type must be production or sandbox",
    ]
    assert not Account.objects.exists()


def test_a_secret_column_fails_the_command_and_its_values_go_nowhere(tmp_path, caplog):
    path = write(tmp_path, f"acme,Acme,production,api@acme.example,,{SECRET}", header=f"{HEADER},Security Token")
    out, err = io.StringIO(), io.StringIO()
    with caplog.at_level(logging.DEBUG), pytest.raises(CommandError, match="looks like a secret") as raised:
        call_command("import_legacy_links", str(path), stdout=out, stderr=err)
    for text in (str(raised.value), out.getvalue(), err.getvalue(), caplog.text):
        assert SECRET not in text
    assert not Account.objects.exists() and not SalesforceLink.objects.exists() and not LinkEvent.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*nope\.csv: No such file"):
        run(tmp_path / "nope.csv")


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    out, _ = run(write(tmp_path, *ROWS, encoding="utf-8-sig"))
    assert "Created 2" in out


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    with pytest.raises(CommandError, match="not UTF-8"):
        run(write(tmp_path, "acme,Café Ünïcode,production,api@acme.example,", encoding="utf-16"))


def test_a_progress_bar_only_on_a_terminal(tmp_path):
    def rows(prefix: str) -> list[str]:
        return [f"{prefix}-{n},Account {n},production,api{n}@x.example," for n in range(30)]

    plain, _ = run(write(tmp_path, *rows("plain")))
    assert "Importing" not in plain
    terminal = Terminal()
    run(write(tmp_path, *rows("tty")), stdout=terminal)
    assert "Importing" in terminal.getvalue() and "30/30" in terminal.getvalue()
