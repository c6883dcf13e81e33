"""The five-accounts rule seen in the browser: a sixth VCC account is refused, and says why."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, expect

from crm_admin.models import AuthorizationOutcome, LinkStatus, PendingAuthorization, SalesforceLink
from tests.browser.helpers import choose, expect_unlinked, log_in, outcome, salesforce_log_in, wait_closed
from tests.conftest import logged_in
from tests.crm_admin.integration.conftest import Portal
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

API_USER = "api@acme.example"
REFUSAL = "already linked to 5 VCC accounts"


def link_five_other_accounts(username: str) -> None:
    """Five other accounts, each linked by its own admin through the real flow over HTTP."""
    for n in range(1, 6):
        account = AccountFactory(slug=f"other-{n}", name=f"Other {n}")
        admin = UserFactory(username=f"other{n}.admin", role="admin")
        account.members.add(admin)
        Portal(client=logged_in(admin), slug=account.slug).link(username)
    assert SalesforceLink.objects.filter(api_user__username=username, status=LinkStatus.LINKED).count() == 5


def acme_attempt() -> PendingAuthorization:
    return PendingAuthorization.objects.get(account__slug="acme")


def test_sixth_account_is_refused_after_salesforce(page: Page, emulator, admin_user, shot):
    link_five_other_accounts(API_USER)
    log_in(page, emulator.site_url, admin_user.username)

    with page.expect_popup() as info:
        choose(page, "Link", "Production")
    popup = info.value
    salesforce_log_in(popup, API_USER)
    popup.get_by_role("button", name="Allow", exact=True).click()
    wait_closed(popup)

    expect(outcome(page)).to_contain_text(REFUSAL)
    expect_unlinked(page)
    shot(page, "refusal")
    assert acme_attempt().outcome == AuthorizationOutcome.REFUSED


def test_sixth_account_with_the_api_username_is_refused_before_salesforce(page: Page, emulator, admin_user, shot):
    link_five_other_accounts(API_USER)
    log_in(page, emulator.site_url, admin_user.username)
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.context.on("request", record)
    page.get_by_label("API username (optional)").fill(API_USER)
    with page.expect_popup() as info:
        choose(page, "Link", "Production")
    wait_closed(info.value)

    expect(outcome(page)).to_contain_text(REFUSAL)
    expect_unlinked(page)
    shot(page, "refusal-before-salesforce")
    assert acme_attempt().outcome == AuthorizationOutcome.REFUSED
    assert any("/attempts/" in url for url in requests), "the popup showed the refusal outcome"
    assert not any("/_emulator/" in url for url in requests), "the popup never reached Salesforce"
