"""The status API's answers: each endpoint's content, the directory's semantics, and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.endpoints import RECENT_EVENTS
from crm_admin import directory
from crm_admin.keyset import LAST
from crm_admin.models import LinkEvent, LinkEventAction
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db

DETAIL = "/api/v1/accounts/{slug}/salesforce-link"
LIST = "/api/v1/salesforce-links"
API_USER = "/api/v1/api-users/{org_id}/{user_id}"


def iso(value) -> str:
    """A datetime as the API writes it (ECMA-262: milliseconds, ``Z``)."""
    return DjangoJSONEncoder().default(value)


def test_a_linked_account_in_full(read_client, linked, api_user, admin_user):
    response = read_client.get(DETAIL.format(slug="acme"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    events = body.pop("recent_events")
    assert body == {
        "account": {"slug": "acme", "name": "Acme Contact Center"},
        "status": "linked",
        "org_type": "production",
        "org_id": api_user.org_id,
        "api_user": {
            "id": api_user.user_id,
            "org_id": api_user.org_id,
            "username": "api@acme.example",
            "accounts_used": 2,
            "accounts_max": 5,
        },
        "legacy_username": None,
        "instance_url": "https://acme.my.salesforce.com",
        "linked_at": iso(linked.linked_at),
        "linked_by": "acme.admin",
        "health": {
            "result": "healthy",
            "needs_attention": False,
            "reason": None,
            "reason_code": None,
            "attention_since": None,
            "checked_at": iso(linked.health_checked_at),
        },
    }
    assert [(e["action"], e["label"], e["actor"]) for e in events] == [
        ("linked", "Linked", "acme.admin"),
        ("failed", "Link failed", None),
    ]
    assert events[1]["summary"] == "api@acme.example · Production · Salesforce unavailable"


def test_a_link_needing_attention_says_why(read_client, needing_attention):
    health = read_client.get(DETAIL.format(slug="initech")).json()["health"]
    assert health["result"] == "attention"
    assert health["needs_attention"] is True
    assert health["reason"] == "Salesforce revoked this link's access."
    assert health["reason_code"] == "grant_revoked"
    assert health["attention_since"] == iso(needing_attention.attention_since)


def test_an_unlinked_account(read_client, account):
    body = read_client.get(DETAIL.format(slug="acme")).json()
    assert body["status"] == "unlinked"
    assert body["api_user"] is body["org_type"] is body["linked_at"] is body["health"]["result"] is None
    assert body["recent_events"] == []


def test_an_account_without_a_link_row_reads_as_unlinked_and_none_is_created(read_client, account):
    account.salesforce_link.delete()
    assert read_client.get(DETAIL.format(slug="acme")).json()["status"] == "unlinked"
    assert not type(account.salesforce_link).objects.filter(account=account).exists()


def test_a_legacy_link(read_client, legacy):
    body = read_client.get(DETAIL.format(slug="globex-legacy")).json()
    assert (body["status"], body["legacy_username"], body["org_type"], body["api_user"]) == (
        "legacy",
        "old@globex.example",
        "production",
        None,
    )
    assert [e["action"] for e in body["recent_events"]] == ["legacy"]


def test_recent_events_are_the_newest_few(read_client, account):
    now = timezone.now()
    for n in range(RECENT_EVENTS + 3):
        event = LinkEvent.objects.create(account=account, action=LinkEventAction.FAILED, detail={"n": n})
        LinkEvent.objects.filter(pk=event.pk).update(created_at=now - timedelta(minutes=100 - n))
    events = read_client.get(DETAIL.format(slug="acme")).json()["recent_events"]
    newest = LinkEvent.objects.filter(account=account).order_by("-created_at")[:RECENT_EVENTS]
    assert [e["at"] for e in events] == [iso(event.created_at) for event in newest]


def test_the_list_gives_the_directorys_answer_page_by_page(read_client, population):
    seen, cursor = [], ""
    while True:
        body = read_client.get(LIST, {"limit": 3, "sort": "-account", "cursor": cursor}).json()
        assert body["total"] == 11
        seen += [item["account"]["slug"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    expected = directory.links_page(directory.LinkQuery(sort="account", descending=True, size=200)).rows
    assert seen == [link.account.slug for link in expected]
    assert len(seen) == 11


def test_the_last_page_and_back(read_client, population):
    last = read_client.get(LIST, {"limit": 4, "cursor": LAST}).json()
    assert last["next_cursor"] is None and last["previous_cursor"]
    before = read_client.get(LIST, {"limit": 4, "cursor": last["previous_cursor"]}).json()
    assert len(before["items"]) == 4
    assert before["items"][-1]["account"]["slug"] < last["items"][0]["account"]["slug"]


@pytest.mark.parametrize(
    ("params", "slugs"),
    [
        ({"status": "legacy"}, ["globex-legacy"]),
        ({"needs_attention": "true"}, ["initech"]),
        ({"status": "linked", "needs_attention": "false"}, ["acme", "acme-emea"]),
        ({"org_type": "production", "q": "acme"}, ["acme", "acme-emea"]),
        ({"q": "OLD@GLOBEX"}, ["globex-legacy"]),
    ],
)
def test_filters_and_search(read_client, population, params, slugs):
    body = read_client.get(LIST, params).json()
    assert [item["account"]["slug"] for item in body["items"]] == slugs
    assert body["total"] == len(slugs)


def test_search_by_a_15_character_org_id_or_user_id(read_client, population, api_user):
    for text in (api_user.org_id[:15], api_user.user_id.lower()):
        body = read_client.get(LIST, {"q": text}).json()
        assert [item["account"]["slug"] for item in body["items"]] == ["acme", "acme-emea"], text


def test_an_api_user_and_the_accounts_it_serves(read_client, linked, api_user):
    expected_slots = [(1, "acme-emea"), (2, "acme")]
    for org_id, user_id in (
        (api_user.org_id, api_user.user_id),
        (api_user.org_id[:15], api_user.user_id[:15]),
        (api_user.org_id.lower(), api_user.user_id.upper()),
    ):
        response = read_client.get(API_USER.format(org_id=org_id, user_id=user_id))
        assert response.status_code == 200, (org_id, user_id)
        body = response.json()
        assert (body["id"], body["org_id"], body["username"]) == (api_user.user_id, api_user.org_id, api_user.username)
        assert (body["accounts_used"], body["accounts_max"]) == (2, 5)
        assert [(a["slot"], a["account"]["slug"]) for a in body["accounts"]] == expected_slots
        assert body["accounts"][1]["health"]["result"] == "healthy"


def test_an_api_user_without_links_serves_no_account(read_client):
    api_user = ApiUserFactory()
    body = read_client.get(API_USER.format(org_id=api_user.org_id, user_id=api_user.user_id)).json()
    assert (body["accounts_used"], body["accounts"]) == (0, [])


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _grow(n: int) -> None:
    """Add linked accounts with a few events each: the data a request must not scale with."""
    api_user = ApiUserFactory()
    for i in range(n):
        account = AccountFactory()
        if i % 5 == 0:
            api_user = ApiUserFactory()
        make_linked(account, api_user)
        LinkEvent.objects.bulk_create(LinkEvent(account=account, action=LinkEventAction.LINKED) for _ in range(3))


@pytest.mark.parametrize(
    ("caller", "budget"),
    [
        # The key lookup and the endpoint's two (last_used_at costs one more, at most once a minute).
        ("read_client", 3),
        # Session, user, user permissions, group permissions (what every portal page pays), then the two.
        ("support_client", 6),
    ],
)
def test_a_constant_small_number_of_queries_per_request(request, caller, budget, linked, api_user):
    client = request.getfixturevalue(caller)
    urls = [
        DETAIL.format(slug="acme"),
        f"{LIST}?limit=50",
        f"{LIST}?q=acme&status=linked&sort=-linked_at",
        API_USER.format(org_id=api_user.org_id, user_id=api_user.user_id),
    ]
    for url in urls:
        _queries(client, url)  # warm: the key's last use is recorded once
    small = [_queries(client, url) for url in urls]
    _grow(40)
    large = [_queries(client, url) for url in urls]
    assert small == large
    assert max(large) <= budget, dict(zip(urls, large, strict=True))
