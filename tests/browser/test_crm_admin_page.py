"""The CRM Admin page without the popup: Unlink, the keyboard menu, and the support view."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm_admin.models import LinkStatus, PendingAuthorization, SalesforceLink
from tests.browser.helpers import button, credentials, expect_linked, expect_unlinked, log_in, status_badge
from tests.conftest import logged_in
from tests.crm_admin.integration.conftest import Portal
from tests.factories import ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db(transaction=True)


def test_unlink_asks_for_confirmation_then_unlinks(page: Page, emulator, admin_user, shot):
    Portal(client=logged_in(admin_user), slug="acme").link("api@acme.example")
    log_in(page, emulator.site_url, admin_user.username)
    expect_linked(page, "api@acme.example", "Production")

    button(page, "Unlink").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("will no longer work")
    shot(page, "unlink-dialog")
    dialog.get_by_role("button", name="Cancel", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(status_badge(page)).to_have_text("Linked")

    button(page, "Unlink").click()
    dialog.get_by_role("button", name="Unlink", exact=True).click()
    expect_unlinked(page)
    expect(page.get_by_role("status").filter(has_text="Unlinked. VCC no longer has access")).to_be_visible()
    shot(page, "unlinked-again")
    assert SalesforceLink.objects.get(account__slug="acme").status == LinkStatus.UNLINKED


def test_link_menu_works_by_keyboard(page: Page, emulator, admin_user, shot):
    log_in(page, emulator.site_url, admin_user.username)
    link = button(page, "Link")
    menu = page.get_by_role("menu")
    production = page.get_by_role("menuitem", name="Production", exact=True)
    sandbox = page.get_by_role("menuitem", name="Sandbox", exact=True)
    expect(link).to_have_attribute("aria-haspopup", "menu")
    expect(link).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()

    link.focus()
    page.keyboard.press("ArrowDown")
    expect(menu).to_be_visible()
    expect(link).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("menuitem")).to_have_count(2)
    expect(production).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(sandbox).to_be_focused()
    shot(page, "menu-keyboard")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(link).to_be_focused()
    expect(link).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    expect(production).to_be_focused()
    page.keyboard.press("ArrowUp")  # wraps to the last item
    expect(sandbox).to_be_focused()
    page.keyboard.press("Home")
    expect(production).to_be_focused()
    page.keyboard.press("Escape")
    expect(link).to_be_focused()
    expect(link).to_have_attribute("aria-expanded", "false")
    assert len(page.context.pages) == 1
    assert PendingAuthorization.objects.count() == 0


def test_support_sees_the_credentials_read_only(page: Page, emulator, account, support_user, shot):
    make_linked(account, ApiUserFactory(username="api@acme.example"))
    log_in(page, emulator.site_url, support_user.username)
    page.goto(f"{emulator.site_url}/accounts/acme/crm-admin/")

    area = credentials(page)
    expect(area.get_by_role("heading", name="Salesforce account credentials")).to_be_visible()
    expect(status_badge(page)).to_have_text("Linked")
    expect(area.get_by_test_id("api-username")).to_have_text("api@acme.example")
    expect(area).to_contain_text("Read-only view")
    for name in ("Link", "Relink", "Unlink"):
        expect(button(page, name)).to_have_count(0)
    expect(page.get_by_role("menuitem")).to_have_count(0)
    shot(page, "support-read-only")
