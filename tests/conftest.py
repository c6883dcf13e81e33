"""Shared fixtures: users in each role, accounts, and the Salesforce emulator on a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.factories import PASSWORD, AccountFactory, UserFactory

# --- Hypothesis profiles (property tests: tests/*/test_properties.py) ---------------------------------
# "ci" is the default, sized so every property test together stays well under a minute per database;
# HYPOTHESIS_PROFILE=dev runs a quick sample, HYPOTHESIS_PROFILE=deep an occasional long sweep. Examples
# share one test database transaction, so function-scoped fixtures are expected, and database work makes
# timing noisy, so there is no per-example deadline.
_PROPERTY_DEFAULTS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,
}
hypothesis_settings.register_profile("ci", max_examples=100, **_PROPERTY_DEFAULTS)
hypothesis_settings.register_profile("dev", max_examples=20, **_PROPERTY_DEFAULTS)
hypothesis_settings.register_profile("deep", max_examples=2000, **_PROPERTY_DEFAULTS)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Every test starts with an empty cache (the per-process memory cache would outlive a test)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def account(db):
    return AccountFactory(slug="acme", name="Acme Contact Center")


@pytest.fixture
def other_account(db):
    return AccountFactory(slug="globex", name="Globex Support")


@pytest.fixture
def admin_user(account):
    user = UserFactory(username="acme.admin", role="admin")
    account.members.add(user)
    return user


@pytest.fixture
def other_admin(other_account):
    user = UserFactory(username="globex.admin", role="admin")
    other_account.members.add(user)
    return user


@pytest.fixture
def support_user(db):
    return UserFactory(username="support", role="support")


@pytest.fixture
def plain_user(account):
    """A member of the account without any role: never sees CRM Admin."""
    user = UserFactory(username="agent")
    account.members.add(user)
    return user


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def admin_client_(admin_user) -> Client:
    return logged_in(admin_user)


@pytest.fixture
def support_client(support_user) -> Client:
    return logged_in(support_user)


@dataclass(frozen=True)
class Emulator:
    """The Salesforce emulator served by the live server, on a different origin from the portal."""

    site_url: str
    base_url: str

    @property
    def production(self) -> str:
        return f"{self.base_url}/production"

    @property
    def sandbox(self) -> str:
        return f"{self.base_url}/sandbox"


def _swap_loopback(url: str) -> str:
    parts = urlsplit(url)
    host, _, port = parts.netloc.partition(":")
    other = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}[host]
    return urlunsplit(parts._replace(netloc=f"{other}:{port}"))


@pytest.fixture
def emulator(live_server, settings) -> Iterator[Emulator]:
    """Point the portal at the emulator on the live server, as ``make run`` does on port 8000."""
    from salesforce_emulator import faults
    from salesforce_emulator.seed import register_callback_url, seed

    site_url = live_server.url
    base_url = _swap_loopback(site_url) + "/_emulator/salesforce"
    settings.SITE_URL = site_url
    settings.SALESFORCE_REDIRECT_URI = site_url + settings.SALESFORCE_CALLBACK_PATH
    settings.SALESFORCE_PRODUCTION_LOGIN_URL = base_url + "/production"
    settings.SALESFORCE_SANDBOX_LOGIN_URL = base_url + "/sandbox"
    origin = urlsplit(base_url)
    directives = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    directives["form-action"] = ["'self'", f"{origin.scheme}://{origin.netloc}"]
    settings.CONTENT_SECURITY_POLICY = {**settings.CONTENT_SECURITY_POLICY, "DIRECTIVES": directives}
    seed()
    register_callback_url(settings.SALESFORCE_REDIRECT_URI)
    yield Emulator(site_url=site_url, base_url=base_url)
    faults.clear()
