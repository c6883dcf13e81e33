"""Every console page runs the same number of SQL queries whatever the number of accounts (and events):
measured at two data sizes, on the first, a middle and the last page, with searches and filters."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_admin.keyset import LAST
from crm_admin.models import LinkEvent, LinkEventAction, SalesforceApiUser
from tests.crm_admin.test_directory import populate
from tests.crm_admin.test_pages import parse

pytestmark = pytest.mark.django_db

LINKS = reverse("support:links")


def next_link(client: Client, url: str) -> str:
    """The "Next" pagination link of a page (its middle page when the data spans three pages or more)."""
    page = parse(client.get(url).content)
    (link,) = [e for e in page.iter() if e.tag == "a" and e.text == "Next"]
    return link.attrs["href"]


def grow(accounts: int, events: int, prefix: str) -> None:
    populate(accounts, seed=len(prefix), prefix=prefix)
    account = SalesforceApiUser.objects.order_by("pk").first().links.first().account
    LinkEvent.objects.bulk_create(
        LinkEvent(account=account, action=LinkEventAction.REFUSED, detail={"reason": "api_user_limit"})
        for _ in range(events)
    )


def measure(client: Client) -> dict[str, int]:
    """Queries per page, by page."""
    cache.clear()
    api_user = SalesforceApiUser.objects.order_by("pk").first()
    account = api_user.links.first().account
    history = reverse("support:account", args=[account.slug])
    pages = {
        "first": f"{LINKS}?size=25",
        "middle": next_link(client, f"{LINKS}?size=25"),
        "last": f"{LINKS}?size=25&cursor={LAST}",
        "search by name": f"{LINKS}?q=account",
        "search by org id": f"{LINKS}?q={api_user.org_id[:15]}",
        "search by user id": f"{LINKS}?q={api_user.user_id}",
        "filters and sort": f"{LINKS}?status=linked&org_type=production&attention=no&sort=linked_at&dir=desc",
        "account": history,
        "account history, last page": f"{history}?cursor={LAST}",
        "api user": reverse("support:api_user", args=[api_user.org_id, api_user.user_id]),
        "home summary": reverse("crm_admin:home"),
        "export": reverse("support:links_export") + "?status=linked",
    }
    counts = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            assert response.status_code == 200, name
            if response.streaming:
                b"".join(response.streaming_content)
        counts[name] = len(captured)
    return counts


def test_every_console_page_costs_the_same_at_two_data_sizes(support_client):
    grow(accounts=60, events=5, prefix="small")
    small = measure(support_client)
    grow(accounts=140, events=80, prefix="large")
    large = measure(support_client)
    assert small == large
    # Session, user, permissions, then the page's own reads: rows + total for a table page.
    assert max(small.values()) <= 7, small
