"""CRM Admin access beyond the portal's permission matrix (tests/test_permission_matrix.py): the navigation
by role, and attempts nobody started."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.conftest import logged_in
from tests.crm_admin.test_pages import parse

pytestmark = pytest.mark.django_db

# --- Navigation ---------------------------------------------------------------------------------------------


def _crm_admin_nav_links(html: bytes) -> list[str]:
    """The hrefs of "CRM Admin" links in a navigation region that also names the Business Apps group."""
    return [
        link.attrs.get("href", "")
        for nav in parse(html).iter()
        if nav.tag == "nav" and "Business Apps" in nav.text
        for link in nav.iter()
        if link.tag == "a" and link.text == "CRM Admin"
    ]


@pytest.mark.parametrize("who", ["admin", "support"])
def test_navigation_shows_business_apps_and_crm_admin(who, admin_user, support_user, account, other_account):
    client = logged_in(admin_user if who == "admin" else support_user)
    for path in ("/", reverse("crm_admin:page", args=[account.slug])):
        response = client.get(path, follow=True)
        assert response.status_code == 200
        (href,) = _crm_admin_nav_links(response.content)
        assert client.get(href, follow=True).status_code == 200


def test_navigation_hides_crm_admin_from_a_user_without_the_role(plain_user):
    response = logged_in(plain_user).get("/", follow=True)
    assert response.status_code == 200
    assert not _crm_admin_nav_links(response.content)
    assert "Business Apps" not in response.content.decode()


# --- Attempts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["attempt_done", "attempt_status"])
def test_an_admin_of_the_account_cannot_see_a_random_attempt(url_name, admin_client_, account):
    kwargs = {"slug": account.slug}
    if url_name == "attempt_done":
        kwargs["attempt_id"] = uuid.uuid4()
    response = admin_client_.get(reverse(f"crm_admin:{url_name}", kwargs=kwargs), {"ref": str(uuid.uuid4())})
    assert response.status_code == 404
