"""Helpers for integration tests: the portal in-process (Django test client), Salesforce = the emulator
over real HTTP on the live server."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import logged_in
from tests.crm_admin.integration.workers import processes  # noqa: F401  (fixture for the worker tests)
from tests.salesforce_login import authorize

EMULATOR_PASSWORD = "Emulator-Pass-1"


@dataclass
class Portal:
    """One admin's browser session on the portal."""

    client: Client
    slug: str

    def start(self, org_type: str = "production", login_hint: str = "", display: str = "tab"):
        return self.client.post(
            f"/accounts/{self.slug}/crm-admin/salesforce/link/",
            {"org_type": org_type, "login_hint": login_hint, "display": display},
        )

    def salesforce(self, authorize_url: str, username: str, decision: str = "Allow", password: str = "") -> str:
        return authorize(
            authorize_url,
            username=username,
            password=password or EMULATOR_PASSWORD,
            callback_prefix=settings.SALESFORCE_REDIRECT_URI,
            decision=decision,
        )

    def callback(self, callback_url: str):
        parts = urlsplit(callback_url)
        return self.client.get(f"{parts.path}?{parts.query}")

    def link(self, username: str, org_type: str = "production", decision: str = "Allow", login_hint: str = ""):
        """Link/Relink through the whole flow; return the callback response."""
        started = self.start(org_type, login_hint=login_hint)
        assert started.status_code == 302, started
        callback_url = self.salesforce(started["Location"], username, decision)
        return self.callback(callback_url)

    def page(self) -> str:
        return self.client.get(f"/accounts/{self.slug}/crm-admin/").content.decode()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def portal(emulator, admin_user, account) -> Portal:
    return Portal(client=logged_in(admin_user), slug=account.slug)
