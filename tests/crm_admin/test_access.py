"""Who may see and change what (checklist D1, B4): roles, tenant isolation, login, CSRF."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from crm_admin import urls as crm_admin_urls
from crm_admin.models import AuthorizationOutcome, LinkEvent, LinkStatus, PendingAuthorization, SalesforceLink
from crm_admin.services import links as link_services
from tests.conftest import logged_in
from tests.crm_admin.test_pages import parse
from tests.factories import ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db

#: Every account-scoped URL with the methods its users call it with.
ACCOUNT_SCOPED = {
    "page": ["get"],
    "link_start": ["post"],
    "unlink": ["get", "post"],
    "attempt_status": ["get"],
    "attempt_abandon": ["post"],
    "attempt_done": ["get"],
}
#: The URLs that change a link: support may look but never touch.
MANAGE = [("link_start", "post"), ("unlink", "get"), ("unlink", "post"), ("attempt_abandon", "post")]


def test_the_matrix_covers_every_account_scoped_url():
    scoped = {p.name for p in crm_admin_urls.urlpatterns if "slug" in p.pattern.converters}
    assert scoped == set(ACCOUNT_SCOPED)


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


@pytest.mark.parametrize("url_name", ["crm_admin:page", "crm_admin:shortcut"])
def test_a_user_without_the_role_is_forbidden(plain_user, account, url_name):
    args = [account.slug] if url_name == "crm_admin:page" else []
    assert logged_in(plain_user).get(reverse(url_name, args=args)).status_code == 403


# --- Tenant isolation ---------------------------------------------------------------------------------------


@pytest.fixture
def foreign(other_account, other_admin):
    """Account B, linked, with a linking attempt of B's own admin in flight."""
    link = make_linked(other_account, ApiUserFactory())
    start = link_services.link_start(
        user=other_admin,
        account=other_account,
        org_type="production",
        session_key="b-session",
        client_ref=uuid.uuid4(),
    )
    return link, start.attempt


def _request(client: Client, method: str, url_name: str, slug: str, attempt: PendingAuthorization):
    ref = str(attempt.client_ref)
    kwargs = {"slug": slug}
    if url_name == "attempt_done":
        kwargs["attempt_id"] = attempt.pk
    url = reverse(f"crm_admin:{url_name}", kwargs=kwargs)
    data = {
        "link_start": {"org_type": "production", "display": "tab"},
        "attempt_status": {"ref": ref},
        "attempt_abandon": {"ref": ref},
    }.get(url_name, {})
    return getattr(client, method)(url, data)


def _snapshot(link: SalesforceLink, attempt: PendingAuthorization) -> tuple:
    link.refresh_from_db()
    attempt.refresh_from_db()
    return (
        link.status,
        link.token_id,
        link.api_user_id,
        attempt.outcome,
        attempt.consumed_at,
        PendingAuthorization.objects.count(),
        LinkEvent.objects.count(),
    )


@pytest.mark.parametrize(
    ("url_name", "method"), [(name, method) for name, methods in ACCOUNT_SCOPED.items() for method in methods]
)
def test_an_admin_of_another_account_gets_404_and_changes_nothing(
    url_name, method, admin_client_, other_account, foreign
):
    link, attempt = foreign
    before = _snapshot(link, attempt)
    response = _request(admin_client_, method, url_name, other_account.slug, attempt)
    assert response.status_code == 404
    assert other_account.name.encode() not in response.content
    assert _snapshot(link, attempt) == before


@pytest.mark.parametrize("url_name", ["attempt_done", "attempt_status"])
def test_an_admin_of_the_account_cannot_see_a_random_attempt(url_name, admin_client_, account):
    kwargs = {"slug": account.slug}
    if url_name == "attempt_done":
        kwargs["attempt_id"] = uuid.uuid4()
    response = admin_client_.get(reverse(f"crm_admin:{url_name}", kwargs=kwargs), {"ref": str(uuid.uuid4())})
    assert response.status_code == 404


@pytest.mark.parametrize(("url_name", "method"), MANAGE)
def test_support_is_forbidden_to_change_a_link(url_name, method, support_client, other_account, foreign):
    link, attempt = foreign
    before = _snapshot(link, attempt)
    response = _request(support_client, method, url_name, other_account.slug, attempt)
    assert response.status_code == 403
    assert _snapshot(link, attempt) == before
    assert link.status == LinkStatus.LINKED and attempt.outcome == AuthorizationOutcome.PENDING


def test_support_can_read_every_accounts_page(support_client, other_account, foreign):
    response = support_client.get(reverse("crm_admin:page", args=[other_account.slug]))
    assert response.status_code == 200


# --- Anonymous users ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "method"),
    [("home", "get"), ("shortcut", "get")]
    + [(name, method) for name, methods in ACCOUNT_SCOPED.items() for method in methods],
)
def test_anonymous_users_are_sent_to_login(url_name, method, client, other_account, foreign):
    link, attempt = foreign
    before = _snapshot(link, attempt)
    if url_name in ACCOUNT_SCOPED:
        response = _request(client, method, url_name, other_account.slug, attempt)
    else:
        response = client.get(reverse(f"crm_admin:{url_name}"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert _snapshot(link, attempt) == before


# --- CSRF (checklist B4) ------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(admin_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


def _csrf_token(client: Client, account) -> str:
    client.get(reverse("crm_admin:page", args=[account.slug]))
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def test_unlink_without_a_csrf_token_is_refused(csrf_client, account):
    make_linked(account, ApiUserFactory())
    response = csrf_client.post(reverse("crm_admin:unlink", args=[account.slug]))
    assert response.status_code == 403
    link = SalesforceLink.objects.get(account=account)
    assert link.status == LinkStatus.LINKED and link.token_id is not None
    assert not LinkEvent.objects.filter(action="unlinked").exists()


def test_unlink_with_the_csrf_token_goes_through(csrf_client, account):
    link_services.link_mark_legacy(account=account, legacy_username="old@acme.example")
    token = _csrf_token(csrf_client, account)
    response = csrf_client.post(reverse("crm_admin:unlink", args=[account.slug]), {"csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.UNLINKED


def test_link_start_without_a_csrf_token_is_refused(csrf_client, account):
    response = csrf_client.post(reverse("crm_admin:link_start", args=[account.slug]), {"org_type": "production"})
    assert response.status_code == 403
    assert not PendingAuthorization.objects.exists()
