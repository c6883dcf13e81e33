"""The pages as people and screen readers meet them: CRM Admin in each status for each role, home, login."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from crm_admin.models import SalesforceToken
from crm_admin.services import links as link_services
from crm_admin.views import HOME_LIST_SIZE
from tests.conftest import logged_in
from tests.factories import PASSWORD, AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db

REFRESH_TOKEN = "5Aep861page-refresh-token-plaintext"
LEGACY_USERNAME = "old.integration@acme.example"
API_USERNAME = "api.user@acme.example"
STATUS_WORDS = {"unlinked": "Unlinked", "linked": "Linked", "legacy": "Legacy"}


# --- A small DOM over html.parser: enough to find controls by role and name -----------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
IMPLICIT_ROLES = {"button": "button", "dialog": "dialog", "h1": "heading", "h2": "heading", "h3": "heading"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    @property
    def text(self) -> str:
        parts = [child if isinstance(child, str) else f" {child.text} " for child in self.children]
        return " ".join("".join(parts).split())

    @property
    def role(self) -> str:
        return self.attrs.get("role") or IMPLICIT_ROLES.get(self.tag, "")

    def by_role(self, role: str, name: str | None = None) -> list[Element]:
        return [
            element
            for element in self.iter()
            if element.role == role
            and (name is None or element.text == name or element.attrs.get("aria-label") == name)
        ]

    def by_id(self, element_id: str) -> Element:
        (found,) = [element for element in self.iter() if element.attrs.get("id") == element_id]
        return found

    def forms(self, action: str) -> list[Element]:
        return [element for element in self.iter() if element.tag == "form" and element.attrs.get("action") == action]

    def ancestors_of(self, target: Element) -> list[Element]:
        """The chain from this element down to ``target`` (exclusive)."""
        for child in self.children:
            if child is target:
                return [self]
            if isinstance(child, Element) and (path := child.ancestors_of(target)):
                return [self, *path]
        return []


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: bytes | str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html.decode() if isinstance(html, bytes) else html)
    builder.close()
    return builder.root


def credentials_section(page: Element) -> Element:
    """The region labelled by the "Salesforce account credentials" heading."""
    (heading,) = page.by_role("heading", "Salesforce account credentials")
    labelled = [e for e in page.iter() if e.attrs.get("aria-labelledby") == heading.attrs.get("id")]
    assert labelled, "the credentials region is not labelled by its heading"
    return labelled[0]


def details(section: Element) -> dict[str, str]:
    """Description-list terms and their descriptions, as a reader hears them."""
    pairs: dict[str, str] = {}
    for element in section.iter():
        if element.tag == "dt":
            pairs[element.text] = ""
            last = element.text
        elif element.tag == "dd":
            pairs[last] = element.text
    return pairs


# --- Fixtures: one account in each status ---------------------------------------------------------------


@pytest.fixture(params=["unlinked", "linked", "legacy"])
def status(request, account, admin_user) -> str:
    if request.param == "linked":
        link = make_linked(account, ApiUserFactory(username=API_USERNAME), refresh_token=REFRESH_TOKEN)
        link.linked_by = admin_user
        link.save()
    elif request.param == "legacy":
        link_services.link_mark_legacy(account=account, legacy_username=LEGACY_USERNAME, org_type="production")
    return request.param


@pytest.fixture(params=["admin", "support"])
def role_client(request, admin_user, support_user):
    return request.param, logged_in(admin_user if request.param == "admin" else support_user)


def crm_admin_page(client, account) -> tuple[Element, str]:
    response = client.get(reverse("crm_admin:page", args=[account.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    return parse(html), html


# --- CRM Admin page -----------------------------------------------------------------------------------------


def test_page_shows_the_heading_and_the_status_word_in_the_badge(status, role_client, account):
    _, client = role_client
    page, _ = crm_admin_page(client, account)
    section = credentials_section(page)
    badges = [e for e in section.iter() if "badge" in e.attrs.get("class", "").split()]
    assert badges and badges[0].text == STATUS_WORDS[status]
    for other in set(STATUS_WORDS.values()) - {STATUS_WORDS[status]}:
        assert other not in [badge.text for badge in badges]


def test_page_never_contains_the_token(status, role_client, account):
    _, client = role_client
    _, html = crm_admin_page(client, account)
    assert REFRESH_TOKEN not in html
    assert "gAAAAA" not in html
    account.salesforce_link.refresh_from_db()
    link = account.salesforce_link
    if link.token_id:
        assert link.token.refresh_token_encrypted not in html
        assert link.link_key not in html


def _menu_items(page: Element, button: Element) -> list[Element]:
    assert button.attrs.get("aria-haspopup") == "menu"
    menu = page.by_id(button.attrs["aria-controls"])
    assert menu.role == "menu"
    return menu.by_role("menuitem")


def test_admin_of_an_unlinked_account_gets_link_with_production_and_sandbox(admin_client_, account):
    page, _ = crm_admin_page(admin_client_, account)
    section = credentials_section(page)
    (link_button,) = section.by_role("button", "Link")
    items = _menu_items(page, link_button)
    assert [item.text for item in items] == ["Production", "Sandbox"]
    (form,) = section.forms(reverse("crm_admin:link_start", args=[account.slug]))
    assert form.attrs.get("method", "").lower() == "post"
    # Without JavaScript each menu item submits the link form with its org type.
    assert [(item.attrs.get("type"), item.attrs.get("name"), item.attrs.get("value")) for item in items] == [
        ("submit", "org_type", "production"),
        ("submit", "org_type", "sandbox"),
    ]
    assert all(form in section.ancestors_of(item) for item in items)
    assert not section.by_role("button", "Unlink")
    assert not section.by_role("button", "Relink")
    assert not section.forms(reverse("crm_admin:unlink", args=[account.slug]))


@pytest.mark.parametrize("status", ["linked", "legacy"], indirect=True)
def test_admin_of_a_linked_or_legacy_account_gets_relink_and_unlink(status, admin_client_, account):
    page, _ = crm_admin_page(admin_client_, account)
    section = credentials_section(page)
    (relink,) = section.by_role("button", "Relink")
    assert [item.text for item in _menu_items(page, relink)] == ["Production", "Sandbox"]
    assert not section.by_role("button", "Link")
    assert section.by_role("button", "Unlink")
    (dialog,) = section.by_role("dialog")
    assert "will no longer work" in dialog.text
    unlink_url = reverse("crm_admin:unlink", args=[account.slug])
    (confirm_form,) = [f for f in dialog.forms(unlink_url) if f.attrs.get("method", "").lower() == "post"]
    (confirm,) = confirm_form.by_role("button", "Unlink")
    assert confirm.attrs.get("type", "submit") == "submit"
    assert any(e.tag == "input" and e.attrs.get("name") == "csrfmiddlewaretoken" for e in confirm_form.iter())


def test_support_sees_no_controls_that_change_the_link(status, support_client, account):
    page, _ = crm_admin_page(support_client, account)
    section = credentials_section(page)
    for name in ("Link", "Relink", "Unlink"):
        assert not page.by_role("button", name)
    assert not page.by_role("menuitem")
    for url_name in ("link_start", "unlink"):
        assert not page.forms(reverse(f"crm_admin:{url_name}", args=[account.slug]))
    assert section.text  # the credentials themselves are still shown


@pytest.mark.parametrize("status", ["linked"], indirect=True)
def test_linked_shows_the_salesforce_side_of_the_link(status, role_client, account, admin_user):
    _, client = role_client
    page, _ = crm_admin_page(client, account)
    link = account.salesforce_link
    link.refresh_from_db()
    shown = details(credentials_section(page))
    assert shown["Org type"] == "Production"
    assert shown["Org ID"] == link.api_user.org_id
    assert shown["API username"] == API_USERNAME
    assert shown["Instance URL"] == "https://acme.my.salesforce.com"
    linked_at = timezone.localtime(link.linked_at)
    assert f"{linked_at.day} {linked_at:%b %Y}" in shown["Linked at"]
    assert shown["Linked by"] == admin_user.username
    assert "1 of 5" in credentials_section(page).text


def test_slots_count_every_account_the_api_user_serves(admin_client_, account):
    api_user = ApiUserFactory()
    make_linked(account, api_user)
    make_linked(AccountFactory(), api_user)
    page, _ = crm_admin_page(admin_client_, account)
    assert "2 of 5" in credentials_section(page).text


@pytest.mark.parametrize("status", ["legacy"], indirect=True)
def test_legacy_recommends_relinking_and_shows_the_legacy_username(status, role_client, account):
    _, client = role_client
    page, _ = crm_admin_page(client, account)
    text = credentials_section(page).text
    assert "recommend" in text.lower() and "relink" in text.lower()
    assert LEGACY_USERNAME in text


# --- Home and the Business Apps shortcut ------------------------------------------------------------------

ENTRY_POINTS = ["crm_admin:home", "crm_admin:shortcut"]


@pytest.mark.parametrize("url_name", ENTRY_POINTS)
def test_a_user_with_one_account_goes_straight_to_it(url_name, admin_client_, account, other_account):
    response = admin_client_.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"] == reverse("crm_admin:page", args=[account.slug])


def test_support_home_is_a_summary_and_crm_admin_leads_to_the_console(support_client, account, other_account):
    """Support serves every account: home counts them (tests/support/test_summary.py), the console lists them."""
    home = support_client.get(reverse("crm_admin:home"))
    assert home.status_code == 200
    assert account.name not in home.content.decode() and other_account.name not in home.content.decode()
    shortcut = support_client.get(reverse("crm_admin:shortcut"))
    assert shortcut.status_code == 302 and shortcut["Location"] == reverse("support:links")


@pytest.mark.parametrize("url_name", ENTRY_POINTS)
def test_an_admin_of_several_accounts_gets_a_list_of_only_theirs(url_name, admin_user, account, other_account):
    second = AccountFactory(slug="initech", name="Initech")
    second.members.add(admin_user)
    response = logged_in(admin_user).get(reverse(url_name))
    assert response.status_code == 200
    hrefs = {e.attrs.get("href") for e in parse(response.content).iter() if e.tag == "a"}
    assert reverse("crm_admin:page", args=[account.slug]) in hrefs
    assert reverse("crm_admin:page", args=[second.slug]) in hrefs
    assert reverse("crm_admin:page", args=[other_account.slug]) not in hrefs


@pytest.mark.parametrize("extra", [0, 1])
def test_an_admin_of_many_accounts_sees_the_first_page_and_how_many_there_are(extra, admin_user, account):
    for n in range(HOME_LIST_SIZE - 1 + extra):
        AccountFactory(slug=f"branch-{n:03d}", members=[admin_user])
    page = parse(logged_in(admin_user).get(reverse("crm_admin:home")).content)
    rows = [e for e in page.iter() if e.tag == "tr"][1:]  # after the header row
    assert len(rows) == HOME_LIST_SIZE
    note = f"Showing {HOME_LIST_SIZE} of {HOME_LIST_SIZE + extra} accounts."
    assert (note in page.text) == bool(extra)


def test_the_shortcut_is_forbidden_to_a_user_without_crm_admin(plain_user):
    assert logged_in(plain_user).get(reverse("crm_admin:shortcut")).status_code == 403


# --- Login and logout ----------------------------------------------------------------------------------------


def test_login_page_has_username_and_password_fields(client):
    response = client.get("/login/")
    assert response.status_code == 200
    page = parse(response.content)
    inputs = {e.attrs.get("name"): e.attrs for e in page.iter() if e.tag == "input"}
    assert "username" in inputs
    assert inputs["password"].get("type") == "password"
    (form,) = [f for f in page.iter() if f.tag == "form" and "password" in {e.attrs.get("name") for e in f.iter()}]
    assert form.attrs.get("method", "").lower() == "post"


def test_login_with_the_form_fields_works(client, admin_user, account):
    response = client.post("/login/", {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/", follow=True).redirect_chain[-1][0] == reverse("crm_admin:page", args=[account.slug])


def test_logout_is_post_only(admin_client_):
    assert admin_client_.get("/logout/").status_code == 405
    assert admin_client_.get("/").status_code == 302  # still logged in: sent to the account page
    response = admin_client_.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert admin_client_.get("/")["Location"].startswith("/login/")


def test_a_token_that_no_key_opens_does_not_break_the_page(admin_client_, account):
    """Checklist E3: rendering never needs the plaintext, so a corrupt ciphertext cannot cause a 500."""
    link = make_linked(account, ApiUserFactory(), refresh_token=REFRESH_TOKEN)
    SalesforceToken.objects.filter(pk=link.token_id).update(refresh_token_encrypted="gAAAAAcorrupt")
    page, html = crm_admin_page(admin_client_, account)
    assert "gAAAAAcorrupt" not in html
    assert credentials_section(page).by_role("button", "Relink")
