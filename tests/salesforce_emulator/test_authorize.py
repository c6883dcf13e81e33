"""The authorize endpoint: request checks, the login page, the Allow Access page, and where each ends."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from salesforce_emulator.models import AuthorizationCode, AuthorizationRequest
from tests.salesforce_emulator.driver import CALLBACK, Salesforce, callback_params, make_pkce, parse_form

# --- Requests that never reach the client: error page, no redirect -----------------------------------


def test_unknown_client_id_shows_error_page_without_redirect(sf: Salesforce) -> None:
    response = sf.authorize(client_id="3MVG9unknown")

    assert response.status_code == 400
    assertContains(response, "invalid_client_id", status_code=400)
    assertContains(response, "client identifier invalid", status_code=400)
    assert "Location" not in response


def test_unregistered_redirect_uri_shows_error_page_without_redirect(sf: Salesforce) -> None:
    response = sf.authorize(redirect_uri="https://attacker.example/crm-admin/salesforce/callback/")

    assertContains(response, "redirect_uri_mismatch", status_code=400)
    assert "Location" not in response


def test_redirect_uri_must_match_exactly_not_by_prefix(sf: Salesforce) -> None:
    response = sf.authorize(redirect_uri=CALLBACK + "extra/")

    assertContains(response, "redirect_uri_mismatch", status_code=400)


def test_missing_redirect_uri_shows_error_page(sf: Salesforce) -> None:
    assertContains(sf.authorize(redirect_uri=None), "redirect_uri_missing", status_code=400)


# --- Refusals sent back to the verified redirect URI with state --------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"scope": "api full"}, "invalid_scope"),
        ({"code_challenge": make_pkce().challenge, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"display": "fullscreen"}, "invalid_request"),
        ({"prompt": "none"}, "invalid_request"),
        ({"immediate": "true"}, "immediate_unsuccessful"),
    ],
)
def test_invalid_request_redirects_with_error_and_state(
    sf: Salesforce, params: dict[str, str | None], error: str
) -> None:
    query = callback_params(sf.authorize(**params))

    assert query["error"] == error
    assert query["error_description"]
    assert query["state"] == "state-123"


def test_redirect_without_state_omits_state(sf: Salesforce) -> None:
    assert "state" not in callback_params(sf.authorize(response_type="token", state=None))


# --- The login page ------------------------------------------------------------------------------------


def test_login_page_has_labelled_fields_and_log_in_button(sf: Salesforce) -> None:
    page = sf.authorize()

    assert page.status_code == 200
    assertContains(page, '<label for="username">Username</label>', html=True)
    assertContains(page, '<label for="password">Password</label>', html=True)
    assertContains(
        page,
        '<button type="submit" class="sfemu-button sfemu-button--primary sfemu-button--wide">Log In</button>',
        html=True,
    )
    assertContains(page, "Salesforce emulator — not a real Salesforce")
    assertContains(page, "Production")
    assertContains(page, 'name="csrfmiddlewaretoken"')


def test_login_page_carries_only_the_request_id(sf: Salesforce) -> None:
    page = sf.authorize()

    fields = parse_form(page.content.decode())["fields"]
    assert set(fields) == {"csrfmiddlewaretoken", "request", "username", "password"}
    assert AuthorizationRequest.objects.get(pk=fields["request"]).state == "state-123"
    assert not page.cookies.keys() - {"csrftoken"}


def test_login_page_allows_popup_opener_and_inline_nothing(sf: Salesforce) -> None:
    page = sf.authorize()

    assert page["Cross-Origin-Opener-Policy"] == "unsafe-none"
    html = page.content.decode()
    assert "<script" not in html
    assert "style=" not in html
    assert not re.search(r"<[^>]*\son\w+=", html)  # no onclick=, onload=, …


def test_login_page_csp_lets_the_form_redirect_to_the_callback(sf: Salesforce) -> None:
    policy = sf.authorize()["Content-Security-Policy"]

    form_action = next(part for part in policy.split(";") if "form-action" in part)
    assert "http://127.0.0.1:8000" in form_action


def test_popup_display_uses_compact_layout(sf: Salesforce) -> None:
    assertContains(sf.authorize(display="popup"), 'class="sfemu sfemu--popup"')
    assertContains(sf.authorize(display=None), 'class="sfemu sfemu--page"')


def test_login_hint_prefills_username(sf: Salesforce) -> None:
    page = sf.authorize(login_hint="api2@acme.example")

    assert parse_form(page.content.decode())["fields"]["username"] == "api2@acme.example"


def test_debug_lists_demo_users_of_this_host_only(sf: Salesforce, settings) -> None:
    settings.DEBUG = True

    page = sf.authorize()

    assertContains(page, "Emulator-Pass-1")
    assertContains(page, "basic@acme.example")
    assertNotContains(page, "api@acme.example.uat")


def test_without_debug_no_demo_users_are_listed(sf: Salesforce, settings) -> None:
    settings.DEBUG = False

    assertNotContains(sf.authorize(), "Emulator-Pass-1")


def test_wrong_password_shows_error_on_the_page(sf: Salesforce) -> None:
    response = sf.log_in(sf.authorize(), "api@acme.example", "wrong-password")

    assert response.status_code == 200
    assertContains(response, "Please check your username and password. If you still can&#x27;t log in")
    assert parse_form(response.content.decode())["fields"]["username"] == "api@acme.example"


def test_unknown_user_shows_the_same_error(sf: Salesforce) -> None:
    response = sf.log_in(sf.authorize(), "nobody@acme.example")

    assertContains(response, "Please check your username and password.")


def test_sandbox_user_cannot_log_in_on_production(sf: Salesforce) -> None:
    response = sf.log_in(sf.authorize(), "api@acme.example.uat")

    assertContains(response, "Please check your username and password.")


def test_production_user_cannot_log_in_on_sandbox(sf: Salesforce) -> None:
    sandbox = sf.on("sandbox")

    response = sandbox.log_in(sandbox.authorize(), "api@acme.example")

    assertContains(response, "Please check your username and password.")


def test_sandbox_user_logs_in_on_sandbox(sf: Salesforce) -> None:
    sandbox = sf.on("sandbox")
    page = sandbox.authorize()
    assertContains(page, "Sandbox")

    assertContains(sandbox.log_in(page, "api@acme.example.uat"), "Allow Access?")


def test_inactive_user_redirects_with_inactive_user(sf: Salesforce) -> None:
    query = callback_params(sf.log_in(sf.authorize(), "inactive@acme.example"))

    assert query["error"] == "inactive_user"
    assert query["error_description"]
    assert query["state"] == "state-123"


def test_inactive_org_redirects_with_inactive_org(sf: Salesforce) -> None:
    query = callback_params(sf.log_in(sf.authorize(), "admin@locked.example"))

    assert query["error"] == "inactive_org"
    assert query["state"] == "state-123"


def test_inactive_user_with_wrong_password_only_sees_the_login_error(sf: Salesforce) -> None:
    response = sf.log_in(sf.authorize(), "inactive@acme.example", "wrong-password")

    assertContains(response, "Please check your username and password.")


def test_login_form_is_csrf_protected(seeded: None) -> None:
    browser = Salesforce(Client(enforce_csrf_checks=True))
    fields = parse_form(browser.authorize().content.decode())["fields"]
    fields.pop("csrfmiddlewaretoken")

    response = browser.client.post(browser.url("/login"), fields | {"username": "api@acme.example"})

    assert response.status_code == 403


def test_login_with_an_unknown_request_id_shows_error_page(sf: Salesforce) -> None:
    response = sf.client.post(sf.url("/login"), {"request": "forged", "username": "api@acme.example"})

    assertContains(response, "expired or was already used", status_code=400)


def test_login_request_expires_after_thirty_minutes(sf: Salesforce) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        page = sf.authorize()
        traveller.shift(31 * 60)

        response = sf.log_in(page, "api@acme.example")

    assertContains(response, "expired or was already used", status_code=400)


# --- The Allow Access page -----------------------------------------------------------------------------


def test_allow_page_names_the_app_and_scopes_in_words(sf: Salesforce) -> None:
    page = sf.log_in(sf.authorize(scope="api refresh_token offline_access id openid"), "api@acme.example")

    assertContains(page, '<h1 class="sfemu-title">Allow Access?</h1>', html=True)
    assertContains(page, "VCC CRM Admin")
    assertContains(page, "Manage user data via APIs (api)")
    assertContains(page, "Perform requests at any time (refresh_token, offline_access)", count=1)
    assertContains(page, "Access the identity URL service")
    assertContains(page, "Access unique user identifiers (openid)")
    assertContains(
        page,
        '<button type="submit" name="decision" value="allow" class="sfemu-button sfemu-button--primary">Allow</button>',
        html=True,
    )
    assertContains(
        page, '<button type="submit" name="decision" value="deny" class="sfemu-button">Deny</button>', html=True
    )
    assert page["Cross-Origin-Opener-Policy"] == "unsafe-none"


def test_deny_redirects_with_access_denied(sf: Salesforce) -> None:
    consent = sf.log_in(sf.authorize(), "api@acme.example")

    response = sf.decide(consent, "deny")

    assert response["Location"] == (
        CALLBACK + "?error=access_denied&error_description=end-user+denied+authorization&state=state-123"
    )
    assert not AuthorizationCode.objects.exists()


def test_allow_redirects_with_code_and_state(sf: Salesforce) -> None:
    consent = sf.log_in(sf.authorize(), "api@acme.example")

    query = callback_params(sf.decide(consent))

    assert set(query) == {"code", "state"}
    assert query["state"] == "state-123"
    assert query["code"].endswith("==")  # Salesforce-style code: standard base64, so it needs URL-encoding


def test_allow_cannot_be_replayed(sf: Salesforce) -> None:
    consent = sf.log_in(sf.authorize(), "api@acme.example")
    sf.decide(consent)

    assertContains(sf.decide(consent), "expired or was already used", status_code=400)
    assert AuthorizationCode.objects.count() == 1


def test_allow_before_login_is_refused(sf: Salesforce) -> None:
    page = sf.authorize()
    fields = parse_form(page.content.decode())["fields"]

    response = sf.client.post(sf.url("/consent"), {"request": fields["request"], "decision": "allow"})

    assertContains(response, "expired or was already used", status_code=400)


def test_code_is_stored_only_as_a_hash(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")

    stored = AuthorizationCode.objects.get()
    assert grant.code not in {stored.code_hash, stored.redirect_uri, stored.scopes}
    assert len(stored.code_hash) == 64
