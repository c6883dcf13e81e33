"""A fake Salesforce for service tests: patches the client's methods and records every call.

Integration tests talk to the emulator over real HTTP instead (tests/crm_admin/integration).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from crm_admin import exceptions
from crm_admin.salesforce import Identity, Introspection, SalesforceClient, TokenResponse
from crm_admin.services import links as link_services
from tests.factories import salesforce_id

ALL_PERMISSIONS = {
    "PermissionsApiEnabled": True,
    "PermissionsEditTask": True,
    "PermissionsViewAllUsers": True,
    "PermissionsViewAllData": True,
    "PermissionsPasswordNeverExpires": True,
}


@dataclass
class FakeSalesforce:
    identity: Identity = field(
        default_factory=lambda: Identity(
            org_id=salesforce_id("00D", 1),
            user_id=salesforce_id("005", 1),
            username="api@acme.example",
            display_name="API User",
            active=True,
        )
    )
    permissions: dict[str, bool] = field(default_factory=lambda: dict(ALL_PERMISSIONS))
    #: Exceptions to raise, by method name.
    fail: dict[str, Exception] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    refresh_invalid: set[str] = field(default_factory=set)
    #: Refresh token rotation: every refresh answers a new refresh token and invalidates the old one.
    rotate: bool = False
    #: What introspection says a fresh access token's expiry is (None: no ``exp``).
    access_token_lifetime: timedelta | None = timedelta(hours=2)
    _counter: itertools.count = field(default_factory=itertools.count)

    def called(self, name: str) -> int:
        return sum(1 for call, _ in self.calls if call == name)

    def as_user(self, n: int, username: str | None = None) -> None:
        self.identity = Identity(
            org_id=salesforce_id("00D", 1),
            user_id=salesforce_id("005", n),
            username=username or f"api{n}@acme.example",
            display_name=f"API {n}",
            active=True,
        )

    # The patched methods -----------------------------------------------------------------------------

    def _record(self, name: str, **kwargs) -> None:
        self.calls.append((name, kwargs))
        if name in self.fail:
            raise self.fail[name]

    def exchange_code(self, client: SalesforceClient, *, code: str, code_verifier: str) -> TokenResponse:
        self._record("exchange_code", code=code, code_verifier=code_verifier, login_url=client.login_url)
        n = next(self._counter)
        return TokenResponse(
            access_token=f"access-{n}",
            refresh_token=f"refresh-{n}",
            instance_url="https://acme.my.salesforce.com",
            id_url=f"https://login.salesforce.com/id/{self.identity.org_id}/{self.identity.user_id}",
            issued_at="1764000000000",
            scope="api refresh_token id",
        )

    def identity_of(self, client: SalesforceClient, *, id_url: str, access_token: str) -> Identity:
        self._record("identity", id_url=id_url)
        return self.identity

    def user_permissions(self, client: SalesforceClient, *, instance_url: str, access_token: str, fields):
        self._record("user_permissions", fields=list(fields))
        return {f: self.permissions.get(f, False) for f in fields}

    def revoke(self, client: SalesforceClient, *, token: str) -> None:
        self._record("revoke", token=token)
        self.revoked.append(token)

    def refresh(self, client: SalesforceClient, *, refresh_token: str) -> TokenResponse:
        self._record("refresh", token=refresh_token)
        if refresh_token in self.refresh_invalid or refresh_token in self.revoked:
            raise exceptions.SalesforceOAuthError("invalid_grant")
        rotated = None
        if self.rotate:
            self.refresh_invalid.add(refresh_token)
            rotated = f"rotated-{next(self._counter)}"
        return TokenResponse(
            access_token="fresh-access",
            refresh_token=rotated or refresh_token,
            instance_url="https://acme.my.salesforce.com",
            id_url="https://login.salesforce.com/id/x/y",
            issued_at="1764000000000",
            scope="api",
        )

    def introspect(self, client: SalesforceClient, *, token: str) -> Introspection:
        self._record("introspect")
        if self.access_token_lifetime is None:
            return Introspection(active=True, expires_at=None)
        return Introspection(active=True, expires_at=timezone.now() + self.access_token_lifetime)


@pytest.fixture
def fake_sf(monkeypatch) -> FakeSalesforce:
    fake = FakeSalesforce()
    monkeypatch.setattr(SalesforceClient, "exchange_code", lambda self, **kw: fake.exchange_code(self, **kw))
    monkeypatch.setattr(SalesforceClient, "identity", lambda self, **kw: fake.identity_of(self, **kw))
    monkeypatch.setattr(SalesforceClient, "user_permissions", lambda self, **kw: fake.user_permissions(self, **kw))
    monkeypatch.setattr(SalesforceClient, "revoke", lambda self, **kw: fake.revoke(self, **kw))
    monkeypatch.setattr(SalesforceClient, "refresh", lambda self, **kw: fake.refresh(self, **kw))
    monkeypatch.setattr(SalesforceClient, "introspect", lambda self, **kw: fake.introspect(self, **kw))
    return fake


SESSION = "session-key-1"


def start_attempt(user, account, org_type="production", login_hint="", session_key=SESSION):
    """Start an attempt and return (attempt, state) as the callback would see them."""
    start = link_services.link_start(
        user=user, account=account, org_type=org_type, session_key=session_key, login_hint=login_hint
    )
    state = parse_qs(urlsplit(start.authorize_url).query)["state"][0] if start.authorize_url else ""
    return start, state


def link_via(user, account, fake: FakeSalesforce, org_type="production", login_hint=""):
    """Run the whole flow through the services against the fake; return the link result or raise."""
    _, state = start_attempt(user, account, org_type, login_hint)
    attempt = link_services.authorization_consume(state=state, user=user, session_key=SESSION)
    return link_services.link_complete(attempt=attempt, code="the-code")
