"""The callback's own cost and ``check_links`` throughput, against the emulator: ``python -m bench.flow OUT.json``.

Runs with ``DEBUG`` on (the emulator refuses anything else) on the benchmark database, while the emulator
is served by its own process on the same database. For each of ``LINKS`` new accounts an admin clicks
Link (the test client, in this process), logs in at the emulator and clicks Allow (over HTTP, outside
the measurement), and the browser lands on the callback: that request is timed, and the time spent in
HTTP calls to the emulator during it (token exchange, identity, permissions query) is subtracted, which
leaves what the portal itself spends once Salesforce has answered. The links are real grants at the
emulator, so one ``check_links`` run can then check them all (each one healthy, or the run fails).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django

from bench.seed import BENCH_PASSWORD

API_USERS = 6
LINKS_PER_API_USER = 5


class HttpClock:
    """Total wall time spent inside ``requests`` while installed (every call the portal makes to Salesforce)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    @contextmanager
    def installed(self) -> Iterator[HttpClock]:
        from requests.adapters import HTTPAdapter

        original = HTTPAdapter.send

        def timed_send(adapter: HTTPAdapter, *args: Any, **kwargs: Any):
            started = time.perf_counter()
            try:
                return original(adapter, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        HTTPAdapter.send = timed_send
        try:
            yield self
        finally:
            HTTPAdapter.send = original


@dataclass(frozen=True)
class Group:
    """One emulator API user, and the admin who links its five accounts (starts are rate-limited per user)."""

    api_username: str
    admin_username: str
    slugs: list[str]


def prepare() -> list[Group]:
    """Emulator users, portal admins and accounts for the flows."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from crm_admin.services.accounts import account_create, portal_user_create
    from salesforce_emulator import directory
    from salesforce_emulator.models import Host
    from salesforce_emulator.seed import DEMO_PASSWORD, register_callback_url, seed

    seed()
    register_callback_url(settings.SALESFORCE_REDIRECT_URI)
    organization = directory.find_organization(host=Host.PRODUCTION, ref="Acme Corp")
    password_hash = make_password(DEMO_PASSWORD)
    groups = []
    for n in range(1, API_USERS + 1):
        api_username = f"bench-api-{n}@acme.example"
        directory.add_user(
            organization=organization,
            username=api_username,
            password_hash=password_hash,
            first_name="Bench",
            last_name=f"Api {n}",
        )
        slugs = [f"bench-flow-{n}-{k}" for k in range(1, LINKS_PER_API_USER + 1)]
        for slug in slugs:
            account_create(slug=slug, name=f"Bench Flow {n}.{slug.rsplit('-', 1)[1]}")
        admin_username = f"bench.flow{n}"
        portal_user_create(username=admin_username, role="admin", password=BENCH_PASSWORD, account_slugs=slugs)
        groups.append(Group(api_username=api_username, admin_username=admin_username, slugs=slugs))
    return groups


def callbacks(groups: list[Group]) -> list[dict[str, float]]:
    """Link every account through the whole flow; return the timing of each callback."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm_admin.models import LinkStatus, SalesforceLink
    from salesforce_emulator.seed import DEMO_PASSWORD
    from tests.salesforce_login import authorize

    timings = []
    for group in groups:
        client = Client()
        logged_in = client.post("/login/", {"username": group.admin_username, "password": BENCH_PASSWORD})
        if logged_in.status_code != 302:
            raise RuntimeError(f"{group.admin_username} could not log in ({logged_in.status_code}).")
        for slug in group.slugs:
            started = client.post(f"/accounts/{slug}/crm-admin/salesforce/link/", {"org_type": "production"})
            callback_url = authorize(
                started["Location"],
                username=group.api_username,
                password=DEMO_PASSWORD,
                callback_prefix=settings.SALESFORCE_REDIRECT_URI,
            )
            parts = urlsplit(callback_url)
            clock = HttpClock()
            with clock.installed(), CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                response = client.get(f"{parts.path}?{parts.query}")
                total = time.perf_counter() - began
            linked = SalesforceLink.objects.get(account__slug=slug).status == LinkStatus.LINKED
            if response.status_code != 302 or not linked:
                raise RuntimeError(f"The callback for {slug} did not link ({response.status_code}).")
            timings.append(
                {
                    "total_ms": total * 1000,
                    "salesforce_ms": clock.seconds * 1000,
                    "own_ms": (total - clock.seconds) * 1000,
                    "salesforce_calls": clock.calls,
                    "queries": len(queries.captured_queries),
                }
            )
    return timings


def check_links(groups: list[Group]) -> dict[str, Any]:
    """Time one ``check_links`` over the flow's API users' links; links per second, or why not available."""
    from django.core.management import call_command, get_commands

    from crm_admin.models import LinkHealth, LinkStatus, SalesforceLink

    if "check_links" not in get_commands():
        return {"available": False, "reason": "no check_links command on this branch yet"}
    usernames = [group.api_username for group in groups]
    links = SalesforceLink.objects.filter(status=LinkStatus.LINKED, api_username__in=usernames).count()
    arguments = [argument for username in usernames for argument in ("--api-user", username)]
    began = time.perf_counter()
    call_command("check_links", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
    seconds = time.perf_counter() - began
    checked = SalesforceLink.objects.filter(api_username__in=usernames)
    if checked.exclude(health=LinkHealth.HEALTHY).exists() or checked.filter(health_checked_at__isnull=True).exists():
        raise RuntimeError("check_links did not find every emulator link healthy: the figure would mislead.")
    return {"available": True, "links": links, "seconds": seconds, "links_per_second": links / seconds}


def summary(timings: list[dict[str, float]]) -> dict[str, Any]:
    def percentile(key: str, share: float) -> float:
        values = sorted(timing[key] for timing in timings)
        return values[min(len(values) - 1, round(share * (len(values) - 1)))]

    return {
        "callbacks": len(timings),
        "own_p50_ms": percentile("own_ms", 0.5),
        "own_p95_ms": percentile("own_ms", 0.95),
        "total_p50_ms": percentile("total_ms", 0.5),
        "salesforce_p50_ms": percentile("salesforce_ms", 0.5),
        "salesforce_calls": statistics.median(timing["salesforce_calls"] for timing in timings),
        "queries": statistics.median(timing["queries"] for timing in timings),
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vcc_portal.settings")
    django.setup()
    groups = prepare()
    result = {"callback": summary(callbacks(groups)), "check_links": check_links(groups)}
    Path(sys.argv[1]).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
