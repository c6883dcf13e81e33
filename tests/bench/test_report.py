"""``make bench``'s report from a real run's results (2026-12-07, SQL text left out): the tables the issue
asks for and the chart. Running the benchmark itself takes PostgreSQL, gunicorn, wrk and minutes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.report import chart, markdown

RESULTS = Path(__file__).with_name("results_2026-12-07.json")


@pytest.fixture
def results() -> dict:
    return json.loads(RESULTS.read_text())


def test_the_report_has_a_table_per_size_the_targets_and_the_rest(results):
    report = markdown(results)
    for heading in (
        "## 1,000 accounts",
        "## 100,000 accounts",
        "## Targets",
        "## Database connections and sessions",
        "## Link callback and health checks",
        "## Seeding",
    ):
        assert heading in report
    assert "| CRM Admin page (admin) | ≥ 0.60 x baseline | 0.31 / 0.25 | **no** |" in report
    assert "| Support console: search | p95 < 50 ms for one user at 100,000 | 47.2 ms | yes |" in report


def test_an_endpoint_a_branch_lacks_is_listed_as_not_available(results):
    for size in results["sizes"].values():
        size["endpoints"]["access_token"] = {"available": False, "reason": "no such URL on this branch yet"}
    report = markdown(results)
    assert "not available" in report


def test_the_chart_is_a_png(results, tmp_path):
    path = tmp_path / "chart.png"
    chart(results, path)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
