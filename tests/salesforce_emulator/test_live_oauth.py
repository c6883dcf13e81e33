"""End to end over real HTTP: requests-oauthlib against the emulator on pytest-django's live server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
import requests
from django.conf import settings
from requests_oauthlib import OAuth2Session

from salesforce_emulator import faults
from salesforce_emulator.seed import DEMO_PASSWORD, register_callback_url, seed
from tests.salesforce_emulator.driver import SECRET, parse_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def production(live_server) -> str:
    seed()
    return f"{live_server.url}/_emulator/salesforce/production"


@pytest.fixture
def callback(live_server) -> str:
    url = live_server.url + "/crm-admin/salesforce/callback/"
    register_callback_url(url)
    return url


def browser_approves(authorize_url: str, *, username: str) -> str:
    """Log in and press Allow as a browser would; return the callback URL Salesforce redirects to."""
    browser = requests.Session()
    login_page = browser.get(authorize_url, timeout=5)
    assert login_page.status_code == 200
    login = parse_form(login_page.text)
    consent_page = browser.post(
        requests.compat.urljoin(login_page.url, login["action"]),
        data=login["fields"] | {"username": username, "password": DEMO_PASSWORD},
        timeout=5,
    )
    assert "Allow Access?" in consent_page.text, consent_page.text[:2000]
    consent = parse_form(consent_page.text)
    redirect = browser.post(
        requests.compat.urljoin(consent_page.url, consent["action"]),
        data=consent["fields"] | {consent["buttons"]["allow"]: "allow"},
        allow_redirects=False,
        timeout=5,
    )
    assert redirect.status_code == 302
    return redirect.headers["Location"]


def test_web_server_flow_with_pkce_over_http(production: str, callback: str) -> None:
    oauth = OAuth2Session(
        settings.SALESFORCE_CLIENT_ID,
        redirect_uri=callback,
        scope=["api", "refresh_token", "id", "openid"],
        pkce="S256",
    )
    authorize_url, state = oauth.authorization_url(f"{production}/services/oauth2/authorize", prompt="login consent")
    assert "code_challenge=" in authorize_url

    callback_url = browser_approves(authorize_url, username="api@acme.example")
    assert callback_url.startswith(callback)
    assert f"state={state}" in callback_url

    token = oauth.fetch_token(
        f"{production}/services/oauth2/token", authorization_response=callback_url, client_secret=SECRET, timeout=5
    )

    expected = hmac.new(SECRET.encode(), (token["id"] + token["issued_at"]).encode(), hashlib.sha256).digest()
    assert token["signature"] == base64.b64encode(expected).decode()
    assert token["instance_url"] == production
    assert token["id"].startswith(f"{production}/id/00D")

    identity = oauth.get(token["id"], timeout=5)
    assert identity.status_code == 200
    assert identity.json()["username"] == "api@acme.example"

    query = oauth.get(
        f"{token['instance_url']}/services/data/v62.0/query",
        params={"q": "SELECT PermissionsApiEnabled, PermissionsEditTask FROM UserPermissionAccess"},
        timeout=5,
    )
    assert query.status_code == 200
    record = query.json()["records"][0]
    assert (record["PermissionsApiEnabled"], record["PermissionsEditTask"]) == (True, True)

    refreshed = oauth.refresh_token(
        f"{production}/services/oauth2/token",
        client_id=settings.SALESFORCE_CLIENT_ID,
        client_secret=SECRET,
        timeout=5,
    )
    assert refreshed["access_token"] != token["access_token"]


def test_timeout_fault_trips_the_clients_read_timeout(production: str, callback: str) -> None:
    faults.inject("token", "timeout", delay=1.0)

    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(f"{production}/services/oauth2/token", data={"grant_type": "refresh_token"}, timeout=(2, 0.3))

    assert time.monotonic() - started < 1.0
    time.sleep(1.0)  # let the server thread finish its answer before the database is flushed
