"""A driver for the emulator's OAuth flow through Django's test client.

``Salesforce`` plays both the browser (authorize, log in, Allow) and the portal's back end (token,
identity, query), so most tests read as one step of the flow.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.test import Client

from salesforce_emulator.seed import DEMO_PASSWORD

ROOT = "/_emulator/salesforce"
CALLBACK = "http://127.0.0.1:8000/crm-admin/salesforce/callback/"
SCOPE = "api refresh_token id openid"
SECRET = "emulator-consumer-secret"


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def make_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return Pkce(verifier, challenge)


@dataclass(frozen=True)
class Grant:
    code: str
    pkce: Pkce


def callback_params(response: HttpResponse) -> dict[str, str]:
    """Return the query of a redirect to the callback URL, one value per name."""
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert location.startswith(CALLBACK), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


class FormParser(HTMLParser):
    """Collect each form's action, its hidden and text inputs, and its submit buttons' name and value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append({"action": attributes.get("action", ""), "fields": {}, "buttons": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value", "")
        elif tag == "button" and self.forms and attributes.get("name"):
            self.forms[-1]["buttons"][attributes["value"]] = attributes["name"]


def parse_form(html: str) -> dict[str, Any]:
    parser = FormParser()
    parser.feed(html)
    assert len(parser.forms) == 1, html
    return parser.forms[0]


class Salesforce:
    """Drive one emulated host through Django's test client."""

    def __init__(self, client: Client, host: str = "production") -> None:
        self.client = client
        self.host = host

    def on(self, host: str) -> Salesforce:
        return Salesforce(self.client, host)

    def url(self, path: str) -> str:
        return f"{ROOT}/{self.host}{path}"

    @property
    def base_url(self) -> str:
        return f"http://testserver{ROOT}/{self.host}"

    # The browser's part ---------------------------------------------------------------------------

    def authorize(self, **params: str | None) -> HttpResponse:
        """GET the authorize endpoint with a valid request, changed by ``params`` (None drops one)."""
        query = {
            "response_type": "code",
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "redirect_uri": CALLBACK,
            "scope": SCOPE,
            "state": "state-123",
            "prompt": "login consent",
            "display": "popup",
        } | params
        return self.client.get(
            self.url("/services/oauth2/authorize"), {k: v for k, v in query.items() if v is not None}
        )

    def log_in(self, page: HttpResponse, username: str, password: str = DEMO_PASSWORD) -> HttpResponse:
        form = parse_form(page.content.decode())
        assert form["action"] == self.url("/login")
        data = form["fields"] | {"username": username, "password": password}
        return self.client.post(form["action"], data)

    def decide(self, page: HttpResponse, decision: str = "allow") -> HttpResponse:
        form = parse_form(page.content.decode())
        assert form["action"] == self.url("/consent")
        return self.client.post(form["action"], form["fields"] | {form["buttons"][decision]: decision})

    def grant(self, username: str, *, pkce: Pkce | None = None, **params: str | None) -> Grant:
        """Log ``username`` in, press Allow and return the code from the callback."""
        pkce = pkce or make_pkce()
        page = self.authorize(**{"code_challenge": pkce.challenge, "code_challenge_method": "S256"} | params)
        consent = self.log_in(page, username)
        assert b"Allow Access?" in consent.content, consent.content.decode()[:2000]
        return Grant(callback_params(self.decide(consent))["code"], pkce)

    # The portal's part ----------------------------------------------------------------------------

    def token(self, **data: str) -> HttpResponse:
        """POST form-encoded data to the token endpoint, as a real client does."""
        return self.client.post(
            self.url("/services/oauth2/token"), urlencode(data), content_type="application/x-www-form-urlencoded"
        )

    def exchange(self, grant: Grant, **overrides: str | None) -> HttpResponse:
        data = {
            "grant_type": "authorization_code",
            "code": grant.code,
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "client_secret": SECRET,
            "redirect_uri": CALLBACK,
            "code_verifier": grant.pkce.verifier,
        } | overrides
        return self.token(**{k: v for k, v in data.items() if v is not None})

    def tokens_for(self, username: str, **params: str | None) -> dict[str, str]:
        response = self.exchange(self.grant(username, **params))
        assert response.status_code == 200, response.content
        return response.json()

    def refresh(self, refresh_token: str) -> HttpResponse:
        return self.token(
            grant_type="refresh_token",
            refresh_token=refresh_token,
            client_id=settings.SALESFORCE_CLIENT_ID,
            client_secret=SECRET,
        )

    def revoke(self, token: str) -> HttpResponse:
        return self.client.post(
            self.url("/services/oauth2/revoke"),
            urlencode({"token": token}),
            content_type="application/x-www-form-urlencoded",
        )

    def get(self, path: str, access_token: str | None = None, **params: str) -> HttpResponse:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return self.client.get(self.url(path), params, headers=headers)

    def query(self, access_token: str | None, q: str, version: str = "62.0") -> HttpResponse:
        return self.get(f"/services/data/v{version}/query", access_token, q=q)


def request_id(page: HttpResponse) -> str:
    match = re.search(r'name="request" value="([^"]+)"', page.content.decode())
    assert match, page.content
    return match[1]
