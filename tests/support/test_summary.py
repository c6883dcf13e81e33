"""The support home page: counts by status and the needs-attention count, each a link into the console
with its filter set; never a list of accounts, and a flat cost whatever the number of accounts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.crm_admin.test_pages import parse
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

HOME = reverse("crm_admin:home")


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def stats(response) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """Each stat's label → (count, console filters of its link)."""
    found = {}
    for item in parse(response.content).iter():
        if item.tag == "li" and "stat" in item.attrs.get("class", "").split():
            (link,) = [e for e in item.iter() if e.tag == "a"]
            spans = {e.attrs.get("class"): e.text for e in link.iter() if e.tag == "span"}
            url = urlsplit(link.attrs["href"])
            assert url.path == reverse("support:links")
            found[spans["stat__label"]] = (spans["stat__count"], parse_qs(url.query))
    return found


def test_the_summary_counts_each_status_and_links_into_the_console(support_client, directory_data):
    response = support_client.get(HOME)
    assert response.status_code == 200
    assert stats(response) == {
        "Needs attention": ("1", {"attention": ["yes"]}),
        "Linked": ("2", {"status": ["linked"]}),
        "Legacy": ("1", {"status": ["legacy"]}),
        "Unlinked": ("1", {"status": ["unlinked"]}),
        "All accounts": ("4", {}),
    }


def test_every_summary_link_opens_the_console_with_that_filter(support_client, directory_data):
    for count, query in stats(support_client.get(HOME)).values():
        response = support_client.get(reverse("support:links"), {k: v[0] for k, v in query.items()})
        assert response.status_code == 200
        assert parse(response.content).by_id("results-heading").text.startswith(f"{count} account")


def test_the_summary_lists_no_account(support_client, directory_data):
    html = support_client.get(HOME).content.decode()
    for name in ("Acme United Kingdom", "Globex Support Desk", "Initech", "Umbrella Corp"):
        assert name not in html
    assert reverse("support:account", args=["acme-uk"]) not in html


def test_the_summary_has_a_search_box_into_the_console(support_client, directory_data):
    page = parse(support_client.get(HOME).content)
    (form,) = page.by_role("search")
    assert form.attrs["action"] == reverse("support:links") and form.attrs["method"] == "get"
    (field,) = [e for e in form.iter() if e.tag == "input"]
    assert field.attrs["name"] == "q"
    assert [e.attrs["for"] for e in form.iter() if e.tag == "label"] == [field.attrs["id"]]


def home_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(HOME).status_code == 200
    return len(captured)


def test_the_home_page_costs_the_same_at_any_size_and_counts_once_per_cache_period(support_client, directory_data):
    first = home_queries(support_client)
    cached = home_queries(support_client)
    assert cached == first - 1  # the one counting query, then the cache
    for n in range(30):
        AccountFactory(slug=f"more-{n}")
    cache.clear()
    assert home_queries(support_client) == first
    assert home_queries(support_client) == cached


def test_an_admin_still_goes_to_their_account(admin_client_, account):
    response = admin_client_.get(HOME)
    assert response.status_code == 302 and response["Location"] == reverse("crm_admin:page", args=[account.slug])
