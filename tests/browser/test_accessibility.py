"""axe-core (bundled by axe-playwright-python, injected through Playwright, so the CSP stays strict) on
every support console page and the CRM Admin page in each state: no serious or critical violation.

Every result (all impacts) is saved under artifacts/axe/ for review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from crm_admin.keyset import LAST
from crm_admin.services import links as link_services
from tests.browser.conftest import PROJECT_ROOT
from tests.browser.helpers import button, log_in, wait_enhanced
from tests.factories import AccountFactory, ApiUserFactory, make_linked
from tests.support.conftest import build_directory

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()
BLOCKING = {"serious", "critical"}
RESULTS = PROJECT_ROOT / "artifacts" / "axe"


class Audit:
    """Runs axe on pages and keeps what it finds, so that one failing page does not hide another."""

    def __init__(self) -> None:
        self.blocking: list[str] = []

    def check(self, page: Page, name: str) -> None:
        violations = AXE.run(page).response["violations"]
        RESULTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        (RESULTS / f"{slug}.json").write_text(json.dumps(violations, indent=2))
        for violation in violations:
            if violation["impact"] in BLOCKING:
                targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"])
                self.blocking.append(
                    f"{name}: {violation['id']} ({violation['impact']}) {violation['help']} at {targets}"
                )

    def visit(self, page: Page, url: str, name: str) -> None:
        response = page.goto(url)
        assert response is not None and response.status in (200, 400), (name, response and response.status)
        self.check(page, name)


@pytest.fixture
def audit() -> Iterator[Audit]:
    found = Audit()
    yield found
    assert not found.blocking, "axe found serious or critical violations:\n" + "\n".join(found.blocking)


def test_every_support_console_page(page: Page, live_server, support_user, audit, shot):
    data = build_directory()
    for n in range(30):
        AccountFactory(slug=f"more-{n:02d}", name=f"More {n:02d}")
    site = live_server.url
    log_in(page, site, support_user.username)
    api_user = data.api_user
    pages = {
        "support home summary": "/",
        "console": "/support/links/",
        "console filtered and sorted": "/support/links/?status=linked&attention=yes&sort=linked_at&dir=desc",
        "console search by org id": f"/support/links/?q={api_user.org_id[:15]}",
        "console last page": f"/support/links/?size=25&cursor={LAST}",
        "console no match": "/support/links/?q=zzz-nothing",
        "console bad filter": "/support/links/?status=broken",
        "account linked": "/support/accounts/acme-uk/",
        "account needing attention": "/support/accounts/umbrella/",
        "account legacy": "/support/accounts/globex/",
        "account unlinked": "/support/accounts/initech/",
        "api user": f"/support/api-users/{api_user.org_id}/{api_user.user_id}/",
        "crm admin page as support": "/accounts/umbrella/crm-admin/",
    }
    for name, path in pages.items():
        audit.visit(page, site + path, name)
    shot(page, "last-audited")


@pytest.mark.parametrize("status", ["unlinked", "linked", "legacy"])
def test_the_crm_admin_page_in_each_state(page: Page, live_server, admin_user, account, audit, status):
    if status == "linked":
        make_linked(account, ApiUserFactory(username="api@acme.example"))
    elif status == "legacy":
        link_services.link_mark_legacy(account=account, legacy_username="old@acme.example", org_type="production")
    log_in(page, live_server.url, admin_user.username)
    expect(page.get_by_role("heading", name="CRM Admin", level=1)).to_be_visible()
    wait_enhanced(page)
    audit.check(page, f"crm admin {status}")

    button(page, "Link" if status == "unlinked" else "Relink").click()
    expect(page.get_by_role("menu")).to_be_visible()
    audit.check(page, f"crm admin {status} with the link menu open")
    page.keyboard.press("Escape")
    if status != "unlinked":
        button(page, "Unlink").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        audit.check(page, f"crm admin {status} with the unlink dialog open")


def test_login_and_refusal_pages(page: Page, live_server, admin_user, audit):
    audit.visit(page, f"{live_server.url}/login/", "login")
    log_in(page, live_server.url, admin_user.username)
    response = page.goto(f"{live_server.url}/support/links/")
    assert response is not None and response.status == 403
    audit.check(page, "console refused to an admin")


def test_the_audit_catches_a_known_violation(page: Page):
    """The check above can fail: axe reports an unlabelled field and an image without alt text."""
    page.set_content('<!DOCTYPE html><html lang="en"><title>t</title><main><img src="x.png"><input></main></html>')
    found = Audit()
    found.check(page, "deliberately broken")
    assert any("image-alt (critical)" in line for line in found.blocking)
    assert any("label (critical)" in line for line in found.blocking)
