"""The API docs page (/api/v1/docs) works under the portal's strict Content Security Policy: Swagger UI from
our own static files, no CDN, no inline script; it lists every operation and runs one with an API key."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from api.models import ApiScope
from api.services import api_key_create
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

OPERATIONS = [
    "/api/v1/accounts/{slug}/salesforce-link",
    "/api/v1/salesforce-links",
    "/api/v1/api-users/{org_id}/{user_id}",
    "/api/v1/accounts/{slug}/salesforce-link/access-token",
]


def test_the_docs_render_every_operation_and_run_one_under_the_csp(page: Page, live_server, shot):
    AccountFactory(slug="acme", name="Acme Contact Center")
    key = api_key_create(name="docs-reader", scopes=[ApiScope.READ]).raw_key
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    outside: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(live_server.url) else outside.append(request.url))

    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    expect(page.get_by_role("heading", name="VCC CRM Admin status API")).to_be_visible()
    for path in OPERATIONS:
        expect(page.locator(f'.opblock-summary-path[data-path="{path}"]')).to_be_visible()
    shot(page, "docs")

    page.get_by_role("button", name="Authorize").click()
    page.get_by_label("auth-bearer-value").fill(key)
    page.get_by_role("button", name="Apply credentials").first.click()
    page.locator(".modal-ux").get_by_role("button", name="Close").first.click()

    page.locator(f'.opblock-summary-path[data-path="{OPERATIONS[0]}"]').click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_placeholder("slug").fill("acme")
    with page.expect_response(f"{live_server.url}/api/v1/accounts/acme/salesforce-link") as answer:
        page.get_by_role("button", name="Execute").click()
    assert answer.value.status == 200
    expect(page.locator(".live-responses-table .microlight").first).to_contain_text('"slug": "acme"')
    shot(page, "try-it-out")

    assert problems == []  # a CSP violation is reported as a console error
    assert outside == []  # nothing from a CDN or any other origin
