"""Headers and templates that keep the popup flow working and scripts contained (checklist A11, B1, C1, C2)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import responses
from django.test import Client
from django.urls import reverse

from crm_admin.models import AuthorizationOutcome, LinkStatus, PendingAuthorization, SalesforceLink
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "/crm-admin/salesforce/callback/"


@pytest.fixture
def started(admin_client_, account) -> PendingAuthorization:
    """An admin's Link attempt in flight, as a forged callback would find it."""
    response = admin_client_.post(
        reverse("crm_admin:link_start", args=[account.slug]),
        {"org_type": "production", "display": "popup", "client_ref": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    return PendingAuthorization.objects.get()


def _pages(admin_client_, support_client, account) -> dict[str, object]:
    """One response of each kind of page, by name."""
    link_start = admin_client_.post(
        reverse("crm_admin:link_start", args=[account.slug]), {"org_type": "sandbox", "display": "popup"}
    )
    attempt = PendingAuthorization.objects.get()
    return {
        "crm_admin": admin_client_.get(reverse("crm_admin:page", args=[account.slug])),
        "home": support_client.get(reverse("crm_admin:home")),
        "login": Client().get("/login/"),
        "callback": admin_client_.get(CALLBACK, {"state": "forged", "code": "x"}),
        "link_start": link_start,
        "attempt_done": admin_client_.get(
            reverse("crm_admin:attempt_done", kwargs={"slug": account.slug, "attempt_id": attempt.pk})
        ),
    }


OPENER_POLICY = {
    "crm_admin": "same-origin-allow-popups",
    "home": "same-origin",
    "login": "same-origin",
    "callback": "unsafe-none",
    "link_start": "unsafe-none",
    "attempt_done": "unsafe-none",
}


def test_cross_origin_opener_policy_per_page(admin_client_, support_client, account, other_account):
    pages = _pages(admin_client_, support_client, account)
    assert pages["crm_admin"].status_code == 200
    assert pages["home"].status_code == 200
    assert pages["login"].status_code == 200
    assert pages["callback"].status_code == 400
    assert pages["link_start"].status_code == 302
    assert pages["attempt_done"].status_code == 200
    assert {name: response["Cross-Origin-Opener-Policy"] for name, response in pages.items()} == OPENER_POLICY


def csp(response) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_every_page_forbids_framing_and_inline_script(admin_client_, support_client, account, other_account):
    for name, response in _pages(admin_client_, support_client, account).items():
        assert response["X-Frame-Options"] == "DENY", name
        policy = csp(response)
        assert policy["default-src"] == ["'self'"], name
        assert "'self'" in policy["script-src"], name
        assert all(v == "'self'" or v.startswith("'nonce-") for v in policy["script-src"]), name
        assert policy["object-src"] == ["'none'"], name
        assert policy["base-uri"] == ["'none'"], name
        assert policy["frame-ancestors"] == ["'none'"], name


# --- Templates: no inline script or style, so the CSP holds (checklist C1) --------------------------------

TEMPLATE_DIRS = [PROJECT_ROOT / "templates", PROJECT_ROOT / "salesforce_emulator" / "templates"]
TAG = re.compile(r"<[a-zA-Z][^<>]*>")
FORBIDDEN = {
    "inline <script>": re.compile(r"^<script\b(?![^>]*\ssrc\s*=)", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE),
}


def template_files() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS if folder.is_dir() for path in folder.rglob("*") if path.is_file())


def violations(text: str) -> list[str]:
    return [f"{what}: {tag}" for tag in TAG.findall(text) for what, pattern in FORBIDDEN.items() if pattern.search(tag)]


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<script type="module">import "/x.js"</script>',
        '<button type="button" onclick="go()">Go</button>',
        '<body onload="init()">',
        '<p style="color: red">',
        '<a href="javascript:alert(1)">',
    ],
)
def test_the_template_scan_catches(snippet):
    assert violations(snippet)


def test_the_template_scan_allows_external_scripts_and_data_attributes():
    assert not violations('<script type="module" src="/static/js/crm_admin.js"></script>')
    assert not violations('<button data-onclick="x" data-style="y" aria-controls="menu">')


def test_templates_have_no_inline_script_handler_or_style():
    files = template_files()
    assert PROJECT_ROOT / "templates" / "base.html" in files
    found = {str(path.relative_to(PROJECT_ROOT)): violations(path.read_text()) for path in files}
    assert {path: found_here for path, found_here in found.items() if found_here} == {}


# --- The callback with a forged state (checklist A1, A6, A11) ------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"state": "forged", "code": "stolen-code"},
        {"code": "stolen-code"},
        {"state": "", "code": "stolen-code"},
        {"state": "forged", "error": "access_denied"},
    ],
)
def test_callback_with_a_forged_state_is_refused_without_calling_salesforce(admin_client_, account, started, query):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as salesforce:
        response = admin_client_.get(CALLBACK, query)
        assert len(salesforce.calls) == 0
    assert response.status_code == 400
    assert "no-store" in response["Cache-Control"]
    assert response["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert b"stolen-code" not in response.content
    started.refresh_from_db()
    assert started.outcome == AuthorizationOutcome.PENDING
    assert started.consumed_at is None
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.UNLINKED


def test_callback_refuses_a_forged_state_for_anonymous_users_too(client, started):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as salesforce:
        response = client.get(CALLBACK, {"state": "forged", "code": "stolen-code"})
        assert len(salesforce.calls) == 0
    assert response.status_code == 400
    assert "no-store" in response["Cache-Control"]


def test_link_start_response_is_not_cached(admin_user, account):
    response = logged_in(admin_user).post(
        reverse("crm_admin:link_start", args=[account.slug]), {"org_type": "production"}
    )
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]


def test_the_csrf_cookie_is_http_only_and_no_script_reads_cookies(db):
    """Issue 11 item 5 (checklist C3): the pages take the CSRF token from the form, never the cookie."""
    response = Client().get("/login/")
    cookie = response.cookies["csrftoken"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    for script in (PROJECT_ROOT / "static" / "js").glob("*.js"):
        assert "cookie" not in script.read_text().lower(), script.name
