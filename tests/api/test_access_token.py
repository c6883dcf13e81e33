"""POST /api/v1/accounts/<slug>/salesforce-link/access-token: a working Salesforce access token for VCC's
backends, over real HTTP against the emulator: the token works, one refresh for ten concurrent callers,
scopes, refusals, audit rows without the token, and no caching of the answer."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection
from django.test import Client
from django.utils import timezone

from api.models import ApiScope
from api.services import api_key_create, api_key_revoke
from crm_admin.models import LinkEvent, LinkEventAction, LinkHealth, SalesforceLink
from salesforce_emulator import faults
from tests.api.conftest import bearer
from tests.conftest import logged_in
from tests.crm_admin.integration.conftest import Portal

pytestmark = pytest.mark.django_db(transaction=True)

API_USER = "api@acme.example"


def url(slug: str = "acme") -> str:
    return f"/api/v1/accounts/{slug}/salesforce-link/access-token"


@pytest.fixture
def linked(emulator, admin_user, account) -> SalesforceLink:
    """``acme`` linked through the whole flow against the emulator, as its admin would."""
    assert Portal(client=logged_in(admin_user), slug=account.slug).link(API_USER).status_code == 302
    return SalesforceLink.objects.select_related("api_user", "account").get(account=account)


@pytest.fixture
def token_key(db):
    return api_key_create(name="call-logger", scopes=[ApiScope.TOKEN])


def refreshes_at_salesforce() -> int:
    from salesforce_emulator.models import AccessToken

    return AccessToken.objects.filter(refresh_token__user__username=API_USER).count()


def test_a_token_key_gets_a_token_that_salesforce_accepts(linked, token_key, emulator):
    response = bearer(token_key).post(url())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["org_id"] == linked.api_user.org_id and body["org_type"] == "production"
    assert body["api_user"] == {"id": linked.api_user.user_id, "username": API_USER}
    assert body["instance_url"] == linked.instance_url
    assert response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"
    identity = requests.get(
        f"{emulator.production}/id/{linked.api_user.org_id}/{linked.api_user.user_id}",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert identity.status_code == 200 and identity.json()["username"] == API_USER
    assert "refresh_token" not in body


def test_every_token_handed_out_is_audited_by_key_without_the_token(linked, token_key):
    first, second = (bearer(token_key).post(url()).json()["access_token"] for _ in range(2))
    assert first == second  # the second came from the encrypted cache
    events = LinkEvent.objects.filter(account=linked.account, action=LinkEventAction.TOKEN_ISSUED)
    assert events.count() == 2
    for event in events:
        assert event.detail["api_key_name"] == "call-logger" and event.detail["api_key_id"] == token_key.api_key.pk
        assert event.actor is None
    assert first not in json.dumps(list(LinkEvent.objects.values_list("detail", flat=True)))


def test_ten_concurrent_requests_over_http_cost_one_refresh(linked, token_key, live_server):
    before = refreshes_at_salesforce()
    start = threading.Barrier(10)

    def one(_: int) -> requests.Response:
        start.wait()
        try:
            return requests.post(
                live_server.url + url(), headers={"Authorization": f"Bearer {token_key.raw_key}"}, timeout=30
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(one, range(10)))

    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.json()["access_token"] for r in responses}) == 1
    assert refreshes_at_salesforce() == before + 1


def test_a_key_without_the_token_scope_is_refused(linked):
    response = bearer(api_key_create(name="reader", scopes=[ApiScope.READ])).post(url())
    assert response.status_code == 403
    assert "token" in response.json()["detail"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_no_key_a_bad_key_or_a_revoked_key_is_401(linked, token_key):
    assert Client().post(url()).status_code == 401
    assert Client(headers={"Authorization": "Bearer vcc_000000000000_nope"}).post(url()).status_code == 401
    api_key_revoke(name_or_prefix="call-logger")
    assert bearer(token_key).post(url()).status_code == 401


def test_a_portal_session_never_gets_a_token(linked, admin_user, support_user):
    for user in (admin_user, support_user):
        response = logged_in(user).post(url())
        assert response.status_code == 401, user
        assert "access_token" not in response.json()


def test_an_unknown_account_is_404(token_key, emulator):
    response = bearer(token_key).post(url("no-such-account"))
    assert response.status_code == 404 and response.json()["detail"]


def test_an_account_that_is_not_linked_is_refused_with_409(account, token_key, emulator):
    response = bearer(token_key).post(url())
    assert response.status_code == 409
    assert "not linked" in response.json()["detail"]


def test_a_link_that_needs_attention_is_refused_with_409_and_its_reason(linked, token_key):
    SalesforceLink.objects.filter(pk=linked.pk).update(
        health=LinkHealth.ATTENTION,
        attention_since=timezone.now(),
        attention_reason="Salesforce revoked this link's access.",
        attention_code="grant_revoked",
    )
    response = bearer(token_key).post(url())
    assert response.status_code == 409
    assert "revoked this link's access" in response.json()["detail"]
    assert not LinkEvent.objects.filter(action=LinkEventAction.TOKEN_ISSUED).exists()


def test_a_grant_revoked_in_salesforce_marks_the_link_and_answers_409(linked, token_key, emulator):
    from salesforce_emulator.models import RefreshToken

    RefreshToken.objects.filter(user__username=API_USER).update(revoked_at=timezone.now())
    response = bearer(token_key).post(url())
    assert response.status_code == 409
    linked.refresh_from_db()
    assert linked.needs_attention and linked.attention_code


def test_salesforce_down_is_503_with_retry_after_and_changes_nothing(linked, token_key, emulator):
    faults.inject("token", "server_error", times=1)
    response = bearer(token_key).post(url())
    assert response.status_code == 503
    assert response["Retry-After"] == "30" and response["Cache-Control"] == "no-store"
    linked.refresh_from_db()
    assert not linked.needs_attention
