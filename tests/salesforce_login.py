"""Drive a Salesforce login page (the emulator's, over real HTTP) the way a person would, without a browser.

Find the form with a password field and fill it, then press the consent page's Allow or Deny button,
following redirects until the browser would land on the portal's callback URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    password_field: str | None = None
    text_fields: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get").lower()))
        elif tag == "input" and self.forms:
            form, kind, name = self.forms[-1], a.get("type", "text").lower(), a.get("name", "")
            if not name:
                return
            if kind == "password":
                form.password_field = name
            elif kind in ("text", "email"):
                form.text_fields.append(name)
                form.fields[name] = a.get("value", "")
            elif kind == "submit":
                form.buttons.append((name, a.get("value", ""), a.get("value", "")))
            elif kind not in ("checkbox", "radio") or "checked" in a:
                form.fields[name] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data
        self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value, text = self._button
            self.forms[-1].buttons.append((name, value, text.strip()))
            self._button = None


def parse(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


class LoginFailed(AssertionError):
    pass


def authorize(
    authorize_url: str,
    *,
    username: str,
    password: str,
    callback_prefix: str,
    decision: str = "Allow",
    session: requests.Session | None = None,
) -> str:
    """Return the callback URL (with ``code`` or ``error`` and ``state``) that Salesforce sends the browser to."""
    browser = session or requests.Session()
    response = browser.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(8):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(callback_prefix):
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
            continue
        page = parse(response.text)
        login = next((f for f in page.forms if f.password_field), None)
        if login is not None:
            if "data-login-error" in response.text or _submitted(response):
                raise LoginFailed(" ".join(page.text).strip()[:500])
            data = dict(login.fields)
            data[login.text_fields[0]] = username
            data[login.password_field] = password
            form = login
        else:
            form = next((f for f in page.forms if any(b[2] == decision for b in f.buttons)), None)
            if form is None:
                raise LoginFailed(f"No form with a {decision!r} button: {' '.join(page.text).strip()[:500]}")
            data = dict(form.fields)
            name, value, _ = next(b for b in form.buttons if b[2] == decision)
            if name:
                data[name] = value
        url = urljoin(response.url, form.action or response.url)
        response = browser.post(url, data=data, allow_redirects=False, timeout=10, headers={"Referer": response.url})
    raise LoginFailed("Too many steps without reaching the callback")


def _submitted(response: requests.Response) -> bool:
    """A login page answered to a POST means the credentials were refused."""
    return response.request.method == "POST"
