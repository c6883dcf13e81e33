"""The console's access rules beyond GET and POST: other methods, HEAD, unknown objects, the navigation.

Who gets what with GET and POST on every console URL is in the portal's permission matrix
(tests/test_permission_matrix.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import logged_in
from tests.crm_admin.test_pages import parse

pytestmark = pytest.mark.django_db


def console_url(name: str, data) -> str:
    api_user = data.api_user
    args = {"account": ["acme-uk"], "api_user": [api_user.org_id, api_user.user_id]}.get(name, [])
    return reverse(f"support:{name}", args=args)


@pytest.fixture
def clients(support_user, admin_user, plain_user) -> dict[str, Client]:
    return {
        "support": logged_in(support_user),
        "admin": logged_in(admin_user),
        "plain": logged_in(plain_user),
    }


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_support_cannot_write_with_any_other_method(clients, directory_data, method):
    response = getattr(clients["support"], method)(console_url("account", directory_data))
    assert response.status_code == 403


def test_support_can_use_head(clients, directory_data):
    assert clients["support"].head(console_url("links", directory_data)).status_code == 200


def test_an_unknown_account_or_api_user_is_404_for_support(clients, directory_data):
    support = clients["support"]
    assert support.get(reverse("support:account", args=["nope"])).status_code == 404
    org_id, user_id = directory_data.api_user.org_id, directory_data.other_api_user.user_id
    assert support.get(reverse("support:api_user", args=[org_id, user_id])).status_code == 404
    assert support.get(reverse("support:api_user", args=["00Dbad", user_id])).status_code == 404


def nav_entries(client: Client) -> list[str]:
    """The links of the main navigation's Support group."""
    page = parse(client.get(reverse("crm_admin:home"), follow=True).content)
    (nav,) = [e for e in page.iter() if e.tag == "nav" and e.attrs.get("aria-label") == "Main"]
    groups = [e for e in nav.iter() if e.tag == "ul" and e.attrs.get("aria-labelledby") == "nav-support"]
    return [a.attrs["href"] for group in groups for a in group.iter() if a.tag == "a"]


def test_only_support_sees_the_console_in_the_navigation(clients, account):
    assert nav_entries(clients["support"]) == [reverse("support:links")]
    assert nav_entries(clients["admin"]) == []
    assert nav_entries(clients["plain"]) == []
