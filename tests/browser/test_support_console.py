"""The support console by keyboard alone: Tab to the search, type, Enter; Tab to a sort header, Enter;
Tab to the pagination, Enter. Focus is visible at every step."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.helpers import log_in
from tests.factories import AccountFactory
from tests.support.conftest import build_directory

pytestmark = pytest.mark.django_db(transaction=True)

MAX_TABS = 200


def tab_to(page: Page, target: Locator) -> int:
    """Press Tab until ``target`` has the focus; return how many presses it took."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{target} never received the focus")


def focus_is_visible(target: Locator) -> bool:
    return target.evaluate("element => getComputedStyle(element).outlineStyle !== 'none'")


def rows(page: Page) -> Locator:
    return page.locator("table.table--console tbody tr")


def test_keyboard_only_search_sort_and_paging(page: Page, live_server, support_user, shot):
    build_directory()
    for n in range(60):
        AccountFactory(slug=f"acme-branch-{n:02d}", name=f"Acme Branch {n:02d}")
    log_in(page, live_server.url, support_user.username)

    page.goto(f"{live_server.url}/support/links/")
    search = page.get_by_role("searchbox", name="Search")
    assert tab_to(page, search) <= 10
    assert focus_is_visible(search)
    page.keyboard.type("acme")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=acme"))
    expect(page.get_by_role("heading", name="61 accounts")).to_be_visible()
    expect(rows(page)).to_have_count(50)
    shot(page, "searched")

    header = page.get_by_role("columnheader", name="Linked at")
    sort_link = header.get_by_role("link", name="Linked at")
    tab_to(page, sort_link)
    assert focus_is_visible(sort_link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=linked_at"))
    expect(page.get_by_role("columnheader", name="Linked at")).to_have_attribute("aria-sort", "ascending")
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("acme")
    first_row = rows(page).first
    expect(first_row).to_contain_text("Acme United Kingdom")  # the only linked one; never-linked rows follow

    pages = page.get_by_role("navigation", name="Pages of links")
    next_link = pages.get_by_role("link", name="Next", exact=True)
    tab_to(page, next_link)
    assert focus_is_visible(next_link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"cursor="))
    expect(rows(page)).to_have_count(11)
    expect(pages.get_by_role("link", name="Next", exact=True)).to_have_count(0)
    expect(pages.get_by_role("link", name="Previous", exact=True)).to_be_visible()
    shot(page, "second-page")
