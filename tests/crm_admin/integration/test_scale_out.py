"""Two app servers sharing one database (issue 10): the portal keeps no state in process memory.

Two gunicorn instances, A and B, serve the portal from the same PostgreSQL test database, as behind a load
balancer, with the database task queue and task workers beside them; the Salesforce emulator is the live
server's. Browsers are ``requests`` sessions, whose cookies
for 127.0.0.1 reach either instance. The instances run the test settings (DEBUG on, which the emulator
needs, and the suite's fast password hashing): this proves statelessness, not speed (``make bench`` does
that).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings

from crm_admin import crypto
from crm_admin.exceptions import SalesforceSessionInvalidError
from crm_admin.models import (
    AuthorizationOutcome,
    LinkEvent,
    LinkStatus,
    PendingAuthorization,
    PendingRevoke,
    SalesforceLink,
)
from tests.conftest import _swap_loopback
from tests.crm_admin.integration.conftest import EMULATOR_PASSWORD
from tests.crm_admin.integration.workers import (
    DATABASE_BACKEND,
    database_url,
    process_env,
    start_worker,
    wait_for_tasks,
    wait_until,
)
from tests.factories import PASSWORD, AccountFactory, UserFactory
from tests.salesforce_login import authorize

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="app servers share a PostgreSQL database",
    ),
    pytest.mark.django_db(transaction=True),
]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PORTS = (8018, 8019)
API_USER = "api5@acme.example"
RACERS = 12
START_SECONDS = 60


@dataclass(frozen=True)
class Cluster:
    """The portal's public origin (the load balancer's address) and the instances behind it."""

    site_url: str
    instances: tuple[str, str]

    @property
    def callback_prefix(self) -> str:
        return self.site_url + settings.SALESFORCE_CALLBACK_PATH


def _start(port: int, env: dict[str, str]) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "vcc_portal.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_until_serving(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else "gunicorn exited"
        try:
            if requests.get(f"{url}/login/", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not start within {START_SECONDS} s")


@pytest.fixture(scope="module")
def instances(live_server, django_db_setup) -> Iterator[tuple[str, str]]:
    """Instances A and B on the test database, pointed at the live server's emulator; started once."""
    instances = tuple(f"http://127.0.0.1:{port}" for port in PORTS)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(PROJECT_ROOT)),
        "DJANGO_SETTINGS_MODULE": "vcc_portal.test_settings",
        "DATABASE_URL": database_url(),
        "SITE_URL": instances[0],  # the load balancer's address: A's, and the test routes each request
        "SALESFORCE_EMULATOR_URL": _swap_loopback(live_server.url) + "/_emulator/salesforce",
        "TASKS_BACKEND": DATABASE_BACKEND,
        "LOG_LEVEL": "WARNING",
    }
    servers = [_start(port, env) for port in PORTS]
    try:
        for server, url in zip(servers, instances, strict=True):
            _wait_until_serving(server, url)
        yield instances
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        for server in servers:
            server.wait(timeout=30)


@pytest.fixture
def cluster(instances, emulator) -> Cluster:
    """The instances, with the emulator seeded and their callback URL registered for this test."""
    from salesforce_emulator.seed import register_callback_url

    register_callback_url(instances[0] + settings.SALESFORCE_CALLBACK_PATH)
    return Cluster(site_url=instances[0], instances=instances)


@dataclass
class Browser:
    """One admin's browser. Each call names the instance the load balancer sent it to."""

    cluster: Cluster
    session: requests.Session = field(default_factory=requests.Session)

    def _csrf_token(self, response: requests.Response) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        assert match, response.text[:500]
        return match.group(1)

    def log_in(self, instance: str, username: str) -> None:
        form = self.session.get(f"{instance}/login/", timeout=30)
        data = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self._csrf_token(form)}
        response = self.session.post(f"{instance}/login/", data=data, allow_redirects=False, timeout=30)
        assert response.status_code == 302, response.text[:500]

    def start_link(self, instance: str, slug: str) -> str:
        """Link → Production on the CRM Admin page; return the Salesforce authorize URL."""
        page = self.session.get(f"{instance}/accounts/{slug}/crm-admin/", timeout=30)
        data = {"org_type": "production", "display": "tab", "csrfmiddlewaretoken": self._csrf_token(page)}
        url = f"{instance}/accounts/{slug}/crm-admin/salesforce/link/"
        response = self.session.post(url, data=data, allow_redirects=False, timeout=30)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def callback(self, instance: str, callback_url: str) -> requests.Response:
        """Follow Salesforce's redirect to the portal's callback, routed to ``instance``."""
        routed = urlunsplit(urlsplit(callback_url)._replace(netloc=urlsplit(instance).netloc))
        return self.session.get(routed, allow_redirects=False, timeout=60)


def admin_with_account(slug: str):
    admin = UserFactory(username=f"{slug}.admin", role="admin")
    AccountFactory(slug=slug, members=[admin])
    return admin


def link_across(cluster: Cluster, slug: str, username: str) -> tuple[Browser, requests.Response]:
    """Start a link on instance A and come back from Salesforce to instance B; return B's answer."""
    a, b = cluster.instances
    admin = admin_with_account(slug)
    browser = Browser(cluster)
    browser.log_in(a, admin.username)
    callback_url = authorize(
        browser.start_link(a, slug),
        username=username,
        password=EMULATOR_PASSWORD,
        callback_prefix=cluster.callback_prefix,
    )
    return browser, browser.callback(b, callback_url)


def test_a_link_started_on_one_instance_completes_on_the_other(cluster):
    a, b = cluster.instances

    browser, response = link_across(cluster, "acme", "api@acme.example")

    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/acme/crm-admin/"
    link = SalesforceLink.objects.get(account__slug="acme")
    assert link.status == LinkStatus.LINKED and link.api_username == "api@acme.example"
    for instance in (a, b):
        page = browser.session.get(f"{instance}/accounts/acme/crm-admin/", timeout=30).text
        assert "Linked" in page and link.org_id in page


def test_twelve_callbacks_for_one_api_user_across_both_instances_link_exactly_five(cluster):
    from salesforce_emulator.models import RefreshToken
    from salesforce_emulator.tokens import digest

    instances = cluster.instances
    racers = []
    for n in range(RACERS):
        browser = Browser(cluster)
        admin = admin_with_account(f"race-{n}")
        # Each browser starts on one instance and comes back from Salesforce to the other.
        browser.log_in(instances[n % 2], admin.username)
        authorize_url = browser.start_link(instances[n % 2], f"race-{n}")
        callback_url = authorize(
            authorize_url, username=API_USER, password=EMULATOR_PASSWORD, callback_prefix=cluster.callback_prefix
        )
        racers.append((browser, instances[(n + 1) % 2], callback_url))
    barrier = threading.Barrier(RACERS)

    def complete(racer: tuple[Browser, str, str]) -> int:
        browser, instance, callback_url = racer
        barrier.wait(timeout=60)
        return browser.callback(instance, callback_url).status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(complete, racers))

    assert statuses == [302] * RACERS
    linked = SalesforceLink.objects.filter(status=LinkStatus.LINKED, api_username=API_USER).select_related("token")
    assert linked.count() == 5
    assert sorted(link.slot for link in linked) == [1, 2, 3, 4, 5]
    outcomes = list(PendingAuthorization.objects.values_list("outcome", flat=True))
    assert outcomes.count(AuthorizationOutcome.LINKED) == 5
    # Salesforce revokes the oldest approvals while the exchanges race (reference §11), so some attempts
    # fail on a revoked session before they can be refused.
    refused = PendingAuthorization.objects.filter(outcome=AuthorizationOutcome.REFUSED)
    failed = PendingAuthorization.objects.filter(outcome=AuthorizationOutcome.FAILED)
    assert refused.count() + failed.count() == RACERS - 5
    assert set(failed.values_list("message", flat=True)) <= {SalesforceSessionInvalidError.user_message}
    # Every grant not held by a Linked link was revoked at the emulator.
    held = {digest(crypto.decrypt(link.token.refresh_token_encrypted)) for link in linked}
    grants = RefreshToken.objects.filter(user__username=API_USER)
    assert grants.count() == RACERS
    assert set(grants.filter(revoked_at__isnull=True).values_list("token_hash", flat=True)) <= held
    assert not PendingRevoke.objects.exists()


def test_a_queued_health_check_is_processed_exactly_once(cluster, settings, emulator, processes):
    from crm_admin.services.health import link_check_task
    from salesforce_emulator.models import AccessToken

    link_across(cluster, "acme", "api@acme.example")
    link = SalesforceLink.objects.get(account__slug="acme")
    env = process_env(settings, emulator)
    start_worker(processes, env)
    start_worker(processes, env)  # two workers, as on two machines, take from the same queue
    refreshes = AccessToken.objects.filter(refresh_token__user__username="api@acme.example")
    before = refreshes.count()
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}

    result = link_check_task.enqueue(link_id=link.pk)

    (row,) = wait_for_tasks([result.id])
    assert row.status == "SUCCESSFUL" and row.return_value == "healthy"
    assert len(row.worker_ids) == 1
    assert refreshes.count() == before + 1
    link.refresh_from_db()
    assert link.health == "healthy" and link.health_checked_at is not None
    # Both workers keep polling; nothing runs the check again.
    wait_until(lambda: all(process.popen.poll() is None for process in processes), what="workers still running")
    time.sleep(1)
    assert refreshes.count() == before + 1
    assert list(LinkEvent.objects.filter(account__slug="acme", action="healthy").values_list("action", flat=True)) == [
        "healthy"
    ]
