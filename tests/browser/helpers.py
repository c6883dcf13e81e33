"""Locators and checks shared by the browser tests (roles and names from design/interfaces.md)."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.factories import PASSWORD

EMULATOR_PASSWORD = "Emulator-Pass-1"
ORG_ID = re.compile(r"^00D[0-9A-Za-z]{15}$")


def log_in(page: Page, site_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the portal's own login page, as a person would."""
    page.goto(f"{site_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()


def open_crm_admin(page: Page) -> None:
    """Business Apps → CRM Admin in the main navigation."""
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("heading", name="Business Apps")).to_be_visible()
    nav.get_by_role("link", name="CRM Admin", exact=True).click()
    expect(page.get_by_role("heading", name="CRM Admin", level=1)).to_be_visible()


def credentials(page: Page) -> Locator:
    """The Salesforce account credentials area (a labelled section, so role region)."""
    return page.get_by_role("region", name="Salesforce account credentials")


def status_badge(page: Page) -> Locator:
    return credentials(page).get_by_test_id("link-status")


def outcome(page: Page) -> Locator:
    """The page's live region that reports how a Link/Relink attempt ended."""
    return page.get_by_role("status").and_(page.locator("#link-outcome"))


def button(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=name, exact=True)


def wait_enhanced(page: Page) -> None:
    """Wait until the page's module script has turned the inline menu into a popup menu."""
    expect(page.locator("[data-menu-root].menu-button--enhanced")).to_have_count(1)


def choose(page: Page, menu_button: str, org_type: str) -> None:
    """Open the Link/Relink menu and click Production or Sandbox (use inside ``expect_popup`` if needed)."""
    wait_enhanced(page)
    button(page, menu_button).click()
    page.get_by_role("menuitem", name=org_type, exact=True).click()


def expect_unlinked(page: Page) -> None:
    expect(status_badge(page)).to_have_text("Unlinked")
    expect(credentials(page).get_by_test_id("api-username")).to_have_count(0)
    expect(button(page, "Link")).to_be_visible()


def expect_linked(page: Page, api_username: str, org_type: str) -> None:
    area = credentials(page)
    expect(status_badge(page)).to_have_text("Linked")
    expect(area.get_by_test_id("api-username")).to_have_text(api_username)
    expect(area.get_by_test_id("org-id")).to_have_text(ORG_ID)
    expect(area.get_by_role("definition").filter(has_text=org_type).first).to_be_visible()
    expect(button(page, "Relink")).to_be_visible()
    expect(button(page, "Unlink")).to_be_visible()
    expect(button(page, "Link")).to_have_count(0)


def salesforce_log_in(window: Page, username: str, *, shot=None, password: str = EMULATOR_PASSWORD) -> None:
    """Log in on the emulator's Salesforce login page and wait for its Allow Access? page."""
    expect(window.get_by_role("button", name="Log In", exact=True)).to_be_visible()
    if shot:
        shot(window, "emulator-login")
    window.get_by_label("Username").fill(username)
    window.get_by_label("Password").fill(password)
    window.get_by_role("button", name="Log In", exact=True).click()
    expect(window.get_by_role("heading", name="Allow Access?")).to_be_visible()
    if shot:
        shot(window, "allow-page")


def wait_closed(popup: Page) -> None:
    """Wait until a popup has closed (it may already have)."""
    if not popup.is_closed():
        popup.wait_for_event("close")


def mark_page(page: Page) -> None:
    """Leave a marker in the page's JavaScript realm: it survives only if the page is never reloaded."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the CRM Admin page was reloaded"
