"""Link and Relink through the Salesforce popup: the page updates in place, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm_admin.models import AuthorizationOutcome, LinkStatus, PendingAuthorization, SalesforceLink
from tests.browser.helpers import (
    assert_not_reloaded,
    button,
    choose,
    credentials,
    expect_linked,
    expect_unlinked,
    log_in,
    mark_page,
    open_crm_admin,
    outcome,
    salesforce_log_in,
    wait_closed,
    wait_enhanced,
)
from tests.conftest import logged_in
from tests.crm_admin.integration.conftest import Portal

pytestmark = pytest.mark.django_db(transaction=True)


def crm_admin_url(emulator) -> str:
    return f"{emulator.site_url}/accounts/acme/crm-admin/"


def test_link_production_in_a_popup_updates_the_page_in_place(page: Page, emulator, admin_user, shot):
    log_in(page, emulator.site_url, admin_user.username)
    open_crm_admin(page)
    expect(credentials(page).get_by_role("heading", name="Salesforce account credentials")).to_be_visible()
    expect_unlinked(page)
    mark_page(page)
    page.evaluate("window.__messages = []; addEventListener('message', (e) => window.__messages.push(e.data))")
    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))
    shot(page, "unlinked")

    wait_enhanced(page)
    button(page, "Link").click()
    expect(page.get_by_role("menu")).to_be_visible()
    expect(button(page, "Link")).to_have_attribute("aria-expanded", "true")
    shot(page, "menu-open")
    with page.expect_popup() as info:
        page.get_by_role("menuitem", name="Production", exact=True).click()
    popup = info.value
    expect(outcome(page)).to_contain_text("Waiting for Salesforce")
    salesforce_log_in(popup, "api@acme.example", shot=shot)
    assert popup.url.startswith(emulator.production), "Salesforce runs on another origin"
    popup.get_by_role("button", name="Allow", exact=True).click()
    wait_closed(popup)

    expect_linked(page, "api@acme.example", "Production")
    expect(outcome(page)).to_contain_text("Linked to Salesforce (Production) as api@acme.example")
    assert_not_reloaded(page)
    shot(page, "linked")
    # The popup's last page told this page (same origin only) that the attempt finished ...
    # Polled from here: wait_for_function() re-evaluates its string in the page, which the CSP forbids.
    for _ in range(100):
        if page.evaluate("window.__messages.length"):
            break
        page.wait_for_timeout(100)
    message = page.evaluate("window.__messages[0]")
    assert message["type"] == "vcc-crm-admin:salesforce-link" and message["status"] == "linked"
    # ... and the page never took the popup's closing for a cancellation.
    assert not any("/attempts/abandon/" in url for url in requests)
    link = SalesforceLink.objects.select_related("api_user").get(account__slug="acme")
    assert link.status == LinkStatus.LINKED
    expect(credentials(page).get_by_test_id("org-id")).to_have_text(link.api_user.org_id)


def test_relink_to_a_sandbox_updates_the_page_in_place(page: Page, emulator, admin_user, shot):
    Portal(client=logged_in(admin_user), slug="acme").link("api@acme.example")
    log_in(page, emulator.site_url, admin_user.username)
    page.goto(crm_admin_url(emulator))
    expect_linked(page, "api@acme.example", "Production")
    mark_page(page)

    with page.expect_popup() as info:
        choose(page, "Relink", "Sandbox")
    popup = info.value
    salesforce_log_in(popup, "api@acme.example.uat")
    assert popup.url.startswith(emulator.sandbox)
    popup.get_by_role("button", name="Allow", exact=True).click()
    wait_closed(popup)

    expect_linked(page, "api@acme.example.uat", "Sandbox")
    expect(outcome(page)).to_contain_text("Relinked to Salesforce (Sandbox) as api@acme.example.uat")
    assert_not_reloaded(page)
    shot(page, "linked-sandbox")


def test_deny_leaves_the_account_unlinked(page: Page, emulator, admin_user, shot):
    log_in(page, emulator.site_url, admin_user.username)
    mark_page(page)
    with page.expect_popup() as info:
        choose(page, "Link", "Production")
    popup = info.value
    salesforce_log_in(popup, "api@acme.example")
    popup.get_by_role("button", name="Deny", exact=True).click()
    wait_closed(popup)

    expect(outcome(page)).to_contain_text("Access was not allowed in Salesforce")
    expect_unlinked(page)
    assert_not_reloaded(page)
    shot(page, "deny-outcome")
    assert PendingAuthorization.objects.get().outcome == AuthorizationOutcome.DENIED


def test_closing_the_popup_cancels_the_attempt(page: Page, emulator, admin_user, shot):
    log_in(page, emulator.site_url, admin_user.username)
    with page.expect_popup() as info:
        choose(page, "Link", "Production")
    popup = info.value
    expect(popup.get_by_role("button", name="Log In", exact=True)).to_be_visible()
    popup.close()

    expect(outcome(page)).to_contain_text("cancelled")
    expect_unlinked(page)
    shot(page, "cancelled")
    assert PendingAuthorization.objects.get().outcome == AuthorizationOutcome.ABANDONED


def test_blocked_popup_offers_to_continue_in_this_tab(page: Page, emulator, admin_user, shot):
    page.add_init_script("window.open = () => null")
    log_in(page, emulator.site_url, admin_user.username)
    choose(page, "Link", "Production")

    expect(outcome(page)).to_contain_text("Your browser blocked the Salesforce window")
    expect(outcome(page).get_by_role("button", name="Continue in this tab")).to_be_visible()
    assert PendingAuthorization.objects.count() == 0
    shot(page, "blocked-popup")
    outcome(page).get_by_role("button", name="Continue in this tab").click()

    salesforce_log_in(page, "api@acme.example")
    assert page.url.startswith(emulator.production)
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page).to_have_url(crm_admin_url(emulator))
    expect_linked(page, "api@acme.example", "Production")
    expect(page.get_by_role("status").filter(has_text="Linked to Salesforce (Production)")).to_be_visible()
    shot(page, "linked-in-tab")
    assert len(page.context.pages) == 1


def test_second_click_focuses_the_open_popup(page: Page, emulator, admin_user, shot):
    log_in(page, emulator.site_url, admin_user.username)
    with page.expect_popup() as info:
        choose(page, "Link", "Production")
    popup = info.value
    expect(popup.get_by_role("button", name="Log In", exact=True)).to_be_visible()
    assert PendingAuthorization.objects.count() == 1

    login_url = popup.url
    choose(page, "Link", "Sandbox")
    expect(outcome(page)).to_contain_text("already open")
    assert popup.url == login_url, "the open Salesforce window was left alone"
    shot(page, "already-open")
    assert len(page.context.pages) == 2
    assert PendingAuthorization.objects.count() == 1

    # The first attempt still finishes normally.
    salesforce_log_in(popup, "api@acme.example")
    popup.get_by_role("button", name="Allow", exact=True).click()
    wait_closed(popup)
    expect_linked(page, "api@acme.example", "Production")
    assert PendingAuthorization.objects.count() == 1
