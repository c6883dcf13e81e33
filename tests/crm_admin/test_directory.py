"""The link directory behind the support console and the status API: filters, search, every sort in
both directions, keyset pages (first, middle, last, backwards), cursors, and constant query counts."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_admin import directory
from crm_admin.directory import ORDERINGS, LinkQuery, links_page, links_summary, search_condition
from crm_admin.keyset import LAST, Cursor, InvalidCursor
from crm_admin.models import LinkStatus, OrgType, SalesforceLink
from crm_admin.salesforce import ids
from crm_admin.services.links import link_mark_legacy
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def populate(count: int, seed: int = 7, prefix: str = "acct") -> None:
    """``count`` accounts: linked (to API users with 1-5 links), legacy and unlinked, with ties and NULLs."""
    rng = random.Random(seed)
    now = timezone.now()
    api_user = None
    for n in range(count):
        # Repeated names make ties on the first sort column; the unique slug breaks them.
        account = AccountFactory(slug=f"{prefix}-{n:04d}", name=f"Account {rng.randint(0, count // 3)}")
        kind = rng.choice(["linked", "linked", "legacy", "unlinked"])
        if kind == "linked":
            if api_user is None or api_user.links.count() >= rng.randint(1, 5):
                api_user = ApiUserFactory()
            link = make_linked(account, api_user)
            SalesforceLink.objects.filter(pk=link.pk).update(
                linked_at=now - timedelta(minutes=rng.randint(0, 5)),  # ties on purpose
                linked_by_username=rng.choice(["ops", "admin", "zed"]),
                health_checked_at=rng.choice([None, now - timedelta(hours=rng.randint(0, 3))]),
                org_type=rng.choice(OrgType.values),
            )
        elif kind == "legacy":
            link_mark_legacy(account=account, legacy_username=f"legacy{n}@old.example", org_type="production")


def expected_order(query: LinkQuery) -> list[int]:
    """The whole ordered result, computed in Python from the same rows: NULLs last in either direction."""
    ordering = query.ordering
    rows = list(directory.links_matching(query))
    present = [row for row in rows if ordering.key(row)[0] is not None]
    blank = [row for row in rows if ordering.key(row)[0] is None]
    present.sort(key=ordering.key, reverse=query.descending)
    blank.sort(key=lambda row: ordering.key(row)[1:], reverse=query.descending)
    return [row.pk for row in present + blank]


def walk_forward(query: LinkQuery) -> list[int]:
    seen, cursor = [], ""
    while True:
        result = links_page(LinkQuery(**{**query.__dict__, "cursor": cursor}))
        seen += [row.pk for row in result.rows]
        if result.page.next_cursor is None:
            return seen
        cursor = result.page.next_cursor


def walk_backward(query: LinkQuery) -> list[int]:
    seen, cursor = [], LAST
    while True:
        result = links_page(LinkQuery(**{**query.__dict__, "cursor": cursor}))
        seen = [row.pk for row in result.rows] + seen
        if result.page.previous_cursor is None:
            return seen
        cursor = result.page.previous_cursor


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("sort", sorted(ORDERINGS))
def test_every_sort_pages_through_everything_once_in_order_both_ways(sort, descending):
    populate(40)
    query = LinkQuery(sort=sort, descending=descending, size=7)
    expected = expected_order(query)
    assert len(expected) == 40
    assert walk_forward(query) == expected
    assert walk_backward(query) == expected


def test_filters_combine_with_paging():
    populate(60)
    query = LinkQuery(status=LinkStatus.LINKED, org_type=OrgType.SANDBOX, sort="linked_at", size=4)
    expected = expected_order(query)
    assert expected and all(
        link.status == "linked" and link.org_type == "sandbox"
        for link in SalesforceLink.objects.filter(pk__in=expected)
    )
    assert walk_forward(query) == expected
    assert links_page(query).total == len(expected)


def test_first_middle_and_last_pages_link_to_their_neighbours():
    populate(25)
    first = links_page(LinkQuery(size=10))
    assert first.page.is_first and not first.page.is_last and len(first.rows) == 10 and first.total == 25
    middle = links_page(LinkQuery(size=10, cursor=first.page.next_cursor))
    assert not middle.page.is_first and not middle.page.is_last
    last = links_page(LinkQuery(size=10, cursor=LAST))
    assert last.page.is_last and not last.page.is_first and len(last.rows) == 10
    back = links_page(LinkQuery(size=10, cursor=middle.page.previous_cursor))
    assert [r.pk for r in back.rows] == [r.pk for r in first.rows]
    assert back.page.is_first


def test_needs_attention_filter():
    populate(20)
    flagged = SalesforceLink.objects.filter(status=LinkStatus.LINKED).first()
    SalesforceLink.objects.filter(pk=flagged.pk).update(
        attention_since=timezone.now(), attention_reason="Revoked.", health="attention"
    )
    assert [r.pk for r in links_page(LinkQuery(needs_attention=True)).rows] == [flagged.pk]
    assert flagged.pk not in [r.pk for r in links_page(LinkQuery(needs_attention=False, size=200)).rows]


@pytest.fixture
def searchable():
    api_user = ApiUserFactory(username="Integration.User@Acme.example")
    acme = AccountFactory(slug="acme-uk", name="Acme United Kingdom")
    make_linked(acme, api_user)
    globex = AccountFactory(slug="globex", name="Globex Support Desk")
    link_mark_legacy(account=globex, legacy_username="old.api@globex.example", org_id=ids.to_18("00D000000000AbC"))
    AccountFactory(slug="initech", name="Initech")
    return {"acme": acme, "globex": globex, "api_user": api_user}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("united", ["acme-uk"]),  # name, any case
        ("ACME-UK", ["acme-uk"]),  # slug
        ("integration.user@", ["acme-uk"]),  # API username, case-insensitive
        ("old.api@globex", ["globex"]),  # legacy username
        ("nothing-like-this", []),
    ],
)
def test_search_by_name_slug_and_usernames(searchable, text, expected):
    assert sorted(r.account.slug for r in links_page(LinkQuery(q=text)).rows) == expected


def test_search_by_org_id_in_15_or_18_characters_in_any_case(searchable):
    org_18 = searchable["api_user"].org_id
    for text in (org_18, org_18[:15], org_18.lower(), f"  {org_18}  "):
        assert [r.account.slug for r in links_page(LinkQuery(q=text)).rows] == ["acme-uk"], text
    assert [r.account.slug for r in links_page(LinkQuery(q="00D000000000AbC")).rows] == ["globex"]


def test_search_by_api_user_id(searchable):
    user_id = searchable["api_user"].user_id
    for text in (user_id, user_id[:15], user_id.upper()):
        assert [r.account.slug for r in links_page(LinkQuery(q=text)).rows] == ["acme-uk"], text


def test_an_id_shaped_search_uses_the_exact_column():
    assert search_condition("00D000000000AbC") == search_condition(ids.to_18("00D000000000AbC"))
    assert "org_id" in str(search_condition("00D000000000AbC"))
    assert "search_text" in str(search_condition("00D000000000AbC999"))  # a bad checksum is just text


def test_search_wildcards_are_literal(searchable):
    assert links_page(LinkQuery(q="%")).rows == []
    assert links_page(LinkQuery(q="_")).rows == []


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "e30",
        Cursor.encode("sideways", [1, 2]),
        Cursor.encode("after", [1]),
        Cursor.encode("after", [None, 1]),
        Cursor.encode("after", ["\x00", 1]),
    ],
)
def test_a_cursor_that_is_not_ours_is_refused(raw):
    with pytest.raises(InvalidCursor):
        links_page(LinkQuery(cursor=raw))


def test_bad_query_values_are_refused():
    for bad in ({"status": "broken"}, {"org_type": "x"}, {"sort": "password"}, {"size": 0}, {"size": 10_000}):
        with pytest.raises(ValueError):
            LinkQuery(**bad)


def queries_for_pages(query: LinkQuery) -> list[int]:
    counts = []
    for cursor in ("", None, LAST):
        if cursor is None:
            cursor = links_page(query).page.next_cursor
        with CaptureQueriesContext(connection) as captured:
            links_page(LinkQuery(**{**query.__dict__, "cursor": cursor}))
        counts.append(len(captured))
    return counts


@pytest.mark.parametrize("sort", ["account", "linked_at", "api_user_accounts"])
def test_query_count_is_the_same_at_two_sizes(sort):
    query = LinkQuery(sort=sort, size=5, q="account")
    populate(12, seed=1)
    small = queries_for_pages(query)
    populate(60, seed=2, prefix="more")
    large = queries_for_pages(query)
    assert small == large == [2, 2, 2]


def test_summary_counts_statuses_and_attention_and_is_cached(django_assert_num_queries):
    cache.clear()
    populate(30)
    expected = {status: SalesforceLink.objects.filter(status=status).count() for status in LinkStatus.values}
    with django_assert_num_queries(1):
        summary = links_summary()
    assert summary.by_status == expected and summary.total == 30 and summary.needs_attention == 0
    with django_assert_num_queries(0):
        assert links_summary() == summary


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": "linked"},
        {"status": "legacy"},
        {"needs_attention": True},
        {"needs_attention": False},
        {"status": "linked", "needs_attention": True},
        {"status": "unlinked", "needs_attention": True},
        {"org_type": "sandbox"},
        {"q": "account"},
    ],
)
def test_total_is_exact_whether_counted_or_taken_from_the_summary(filters):
    populate(30)
    flagged = SalesforceLink.objects.filter(status=LinkStatus.LINKED).first()
    SalesforceLink.objects.filter(pk=flagged.pk).update(attention_since=timezone.now(), attention_reason="Revoked.")
    query = LinkQuery(**filters)
    assert links_page(query).total == directory.links_matching(query).count()


def test_an_unfiltered_page_with_a_warm_summary_is_one_query(django_assert_num_queries):
    populate(10)
    links_summary()
    with django_assert_num_queries(1):
        links_page(LinkQuery(status="legacy"))
