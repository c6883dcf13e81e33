"""The permission matrix (issue 8; checklist D1, B4): every URL of the portal, for every kind of caller,
with GET and with POST, in one table.

Callers: an anonymous visitor; a member of account A without any role; an account admin of A (who meets
A as their own account and B as a foreign one); support staff; a service API key with the ``read``
scope and one with the ``token`` scope. Accounts A and B are both Linked, each with a linking attempt in
flight (A's started by A's admin in the session the matrix uses), so every URL meets real state.

Every request carries a valid CSRF token, so that each 403 in the table is an access decision (asserted:
none of them is Django's CSRF page). CSRF itself is tested on its own below: a session POST without the
token is refused with 403 on every page and changes nothing (checklist B4). A refused request, GET or
POST, leaves the link tables exactly as they were; a write that goes through is marked ``Writes(...)``
in the table, and must change them.

The guard at the end walks the URL resolver and fails on any URL pattern the matrix does not list, so a
new URL is added to the matrix deliberately, with its expectations.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.http import HttpResponse
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, include, path, resolve, reverse

from api.models import ApiScope
from api.services import api_key_create
from crm_admin.models import Account, LinkEvent, PendingAuthorization, PendingRevoke, SalesforceLink, SalesforceToken
from crm_admin.services import links as link_services
from tests.crm_admin.services.conftest import fake_sf  # noqa: F401  (fixture: no request reaches Salesforce)
from tests.factories import AccountFactory, ApiUserFactory, UserFactory, make_linked

GET, POST = "GET", "POST"
METHODS = (GET, POST)
CALLERS = ("anonymous", "member", "admin", "support", "read_key", "token_key")

#: A redirect to the login page that comes back to the URL asked for.
LOGIN: Literal["login"] = "login"


@dataclass(frozen=True)
class Writes:
    """A write that goes through: it answers ``status`` and changes the link tables."""

    status: int


Expected = int | Literal["login"] | Writes


# --- The state every cell starts from ---------------------------------------------------------------------


#: The names of accounts A and B: a refusal never shows either.
ACCOUNT_NAMES = ("Acme Contact Center", "Globex Support")
#: The account column's value for a slug no account has.
MISSING = "-"


@dataclass(frozen=True)
class Scope:
    """An account as the account-scoped URLs name it, with the linking attempt in flight there."""

    slug: str
    attempt_id: uuid.UUID
    attempt_ref: uuid.UUID


@dataclass(frozen=True)
class Portal:
    #: "A": the admin's own account; "B": a foreign one; MISSING: a slug no account has.
    scopes: dict[str, Scope]
    #: The ``state`` of the A admin's attempt, as Salesforce sends it back to the callback.
    callback_state: str
    #: Org id and user id of A's Salesforce API user.
    api_user: tuple[str, str]
    #: Session keys of the callers who log in, and raw keys of the service callers.
    sessions: dict[str, str]
    keys: dict[str, str]


def _session_key(user: AbstractBaseUser) -> str:
    client = Client()
    client.force_login(user)
    return client.session.session_key


def _attempt_start(user: AbstractBaseUser, account: Account, session_key: str) -> tuple[Scope, str]:
    """Start a linking attempt as the Link button does; return its scope and the state sent to Salesforce."""
    start = link_services.link_start(
        user=user, account=account, org_type="production", session_key=session_key, client_ref=uuid.uuid4()
    )
    state = parse_qs(urlsplit(start.authorize_url).query)["state"][0]
    return Scope(slug=account.slug, attempt_id=start.attempt.pk, attempt_ref=start.attempt.client_ref), state


def _portal_build() -> Portal:
    own = AccountFactory(slug="acme", name=ACCOUNT_NAMES[0])
    foreign = AccountFactory(slug="globex", name=ACCOUNT_NAMES[1])
    admin = UserFactory(username="acme.admin", role="admin")
    member = UserFactory(username="acme.agent")
    foreign_admin = UserFactory(username="globex.admin", role="admin")
    own.members.add(admin, member)
    foreign.members.add(foreign_admin)
    api_user = ApiUserFactory()
    make_linked(own, api_user)
    make_linked(foreign, ApiUserFactory())
    sessions = {
        "member": _session_key(member),
        "admin": _session_key(admin),
        "support": _session_key(UserFactory(username="support", role="support")),
    }
    own_scope, state = _attempt_start(admin, own, sessions["admin"])
    foreign_scope, _ = _attempt_start(foreign_admin, foreign, _session_key(foreign_admin))
    return Portal(
        scopes={
            "A": own_scope,
            "B": foreign_scope,
            MISSING: Scope("no-such-account", foreign_scope.attempt_id, foreign_scope.attempt_ref),
        },
        callback_state=state,
        api_user=(api_user.org_id, api_user.user_id),
        sessions=sessions,
        keys={
            "read_key": api_key_create(name="status-reader", scopes=[ApiScope.READ]).raw_key,
            "token_key": api_key_create(name="call-logger", scopes=[ApiScope.TOKEN]).raw_key,
        },
    )


@pytest.fixture(scope="module")
def portal(django_db_setup, django_db_blocker) -> Iterator[Portal]:
    """Build the state once for the module, in a transaction rolled back at its end.

    Each test runs in a savepoint inside it (pytest-django's ``db``), so every cell starts from this
    state, as with ``TestCase.setUpTestData``, whose two calls these are: building it afresh for each of
    the ~500 cells would cost half a minute. (A plain ``transaction.atomic()`` would not do: the services'
    durable transactions may nest only in the test case's own atomics, which Django marks as such.)
    """
    with django_db_blocker.unblock():
        atomics = TestCase._enter_atomics()
        try:
            yield _portal_build()
        finally:
            TestCase._rollback_atomics(atomics)


CSRF_SECRET = secrets.token_hex(16)
CSRF_FAILURE = b"CSRF verification failed"


def client_for(portal: Portal, caller: str, *, csrf: bool = True) -> Client:
    """A browser (or a service) for the caller: its session or its key, and a valid CSRF token."""
    headers = {"X-CSRFToken": CSRF_SECRET} if csrf else {}
    if caller in portal.keys:
        headers["Authorization"] = f"Bearer {portal.keys[caller]}"
    client = Client(enforce_csrf_checks=True, headers=headers)
    if csrf:
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    if caller in portal.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = portal.sessions[caller]
    return client


# --- Every URL, and how the matrix calls it ---------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    path: str
    #: The query string of a GET, the form of a POST.
    data: dict[str, str]


Args = Callable[[Portal, Scope], list[object]]
Data = Callable[[Portal, Scope], dict[str, str]]


def _account(portal: Portal, scope: Scope) -> list[object]:
    return [scope.slug]


def _attempt(portal: Portal, scope: Scope) -> list[object]:
    return [scope.slug, scope.attempt_id]


def _own_account(portal: Portal, scope: Scope) -> list[object]:
    return [portal.scopes["A"].slug]


def _api_user(portal: Portal, scope: Scope) -> list[object]:
    return list(portal.api_user)


def _ref(portal: Portal, scope: Scope) -> dict[str, str]:
    return {"ref": str(scope.attempt_ref)}


@dataclass(frozen=True)
class Url:
    #: The resolver's name for it, namespace included.
    view_name: str
    args: Args | None = None
    #: The query string of a GET, the form of a POST.
    data: Data | None = None
    #: Appended to the reversed path (for the API's catch-all, which reverses to the API's root).
    suffix: str = ""

    @property
    def scoped(self) -> bool:
        """Whether it names an account: the matrix then lists it on A, on B, and on a missing account."""
        return self.args in (_account, _attempt)

    def call(self, portal: Portal, scope: Scope) -> Call:
        path = reverse(self.view_name, args=self.args(portal, scope) if self.args else [])
        return Call(path + self.suffix, self.data(portal, scope) if self.data else {})


URLS: dict[str, Url] = {
    "home": Url("crm_admin:home"),
    "business-apps shortcut": Url("crm_admin:shortcut"),
    "CRM Admin page": Url("crm_admin:page", _account),
    "link start": Url("crm_admin:link_start", _account, lambda portal, scope: {"org_type": "production"}),
    "unlink": Url("crm_admin:unlink", _account),
    "attempt status": Url("crm_admin:attempt_status", _account, _ref),
    "attempt abandon": Url("crm_admin:attempt_abandon", _account, _ref),
    "attempt done": Url("crm_admin:attempt_done", _attempt),
    "OAuth callback": Url(
        "crm_admin:salesforce_callback",
        data=lambda portal, scope: {"state": portal.callback_state, "error": "access_denied"},
    ),
    "console": Url("support:links"),
    "console export.csv": Url("support:links_export"),
    "console account": Url("support:account", _own_account),
    "console API user": Url("support:api_user", _api_user),
    "API link": Url("api-v1:salesforce_link", _account),
    "API links": Url("api-v1:salesforce_links"),
    "API API user": Url("api-v1:api_user", _api_user),
    "API access token": Url("api-v1:access_token", _account),
    "API openapi.json": Url("api-v1:openapi-json"),
    "API docs": Url("api-v1:openapi-view"),
    "API root": Url("api-v1:api-root"),
    "API unknown path": Url("api-v1:unknown", suffix="no-such-endpoint"),
}


# --- The matrix -------------------------------------------------------------------------------------------

#: Per URL, the account it is on (A: the admin's own, B: a foreign one, -: none has that slug; blank when the
#: URL names no account) and method: what each caller gets. A status; LOGIN, a redirect to the login page that
#: comes back; or Writes(status), a write that goes through.
# fmt: off
MATRIX: dict[tuple[str, str, str], tuple[Expected, ...]] = {
    # URL                      on   method        anonymous  member  admin       support  read_key  token_key
    ("home",                   "",  GET):        (LOGIN,     200,    302,        200,     LOGIN,    LOGIN),
    ("home",                   "",  POST):       (LOGIN,     405,    405,        405,     LOGIN,    LOGIN),
    ("business-apps shortcut", "",  GET):        (LOGIN,     403,    302,        302,     LOGIN,    LOGIN),
    ("business-apps shortcut", "",  POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("CRM Admin page",         "A", GET):        (LOGIN,     403,    200,        200,     LOGIN,    LOGIN),
    ("CRM Admin page",         "A", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("CRM Admin page",         "B", GET):        (LOGIN,     403,    404,        200,     LOGIN,    LOGIN),
    ("CRM Admin page",         "B", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("CRM Admin page",         "-", GET):        (LOGIN,     403,    404,        404,     LOGIN,    LOGIN),
    ("CRM Admin page",         "-", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("link start",             "A", GET):        (LOGIN,     403,    405,        403,     LOGIN,    LOGIN),
    ("link start",             "A", POST):       (LOGIN,     403,    Writes(302), 403,    LOGIN,    LOGIN),
    ("link start",             "B", GET):        (LOGIN,     403,    405,        403,     LOGIN,    LOGIN),
    ("link start",             "B", POST):       (LOGIN,     403,    404,        403,     LOGIN,    LOGIN),
    ("link start",             "-", GET):        (LOGIN,     403,    405,        403,     LOGIN,    LOGIN),
    ("link start",             "-", POST):       (LOGIN,     403,    404,        403,     LOGIN,    LOGIN),
    ("unlink",                 "A", GET):        (LOGIN,     403,    200,        403,     LOGIN,    LOGIN),
    ("unlink",                 "A", POST):       (LOGIN,     403,    Writes(303), 403,    LOGIN,    LOGIN),
    ("unlink",                 "B", GET):        (LOGIN,     403,    404,        403,     LOGIN,    LOGIN),
    ("unlink",                 "B", POST):       (LOGIN,     403,    404,        403,     LOGIN,    LOGIN),
    ("unlink",                 "-", GET):        (LOGIN,     403,    404,        403,     LOGIN,    LOGIN),
    ("unlink",                 "-", POST):       (LOGIN,     403,    404,        403,     LOGIN,    LOGIN),
    ("attempt status",         "A", GET):        (LOGIN,     403,    200,        404,     LOGIN,    LOGIN),
    ("attempt status",         "A", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("attempt status",         "B", GET):        (LOGIN,     403,    404,        404,     LOGIN,    LOGIN),
    ("attempt status",         "B", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("attempt status",         "-", GET):        (LOGIN,     403,    404,        404,     LOGIN,    LOGIN),
    ("attempt status",         "-", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("attempt abandon",        "A", GET):        (LOGIN,     403,    405,        403,     LOGIN,    LOGIN),
    ("attempt abandon",        "A", POST):       (LOGIN,     403,    Writes(200), 403,    LOGIN,    LOGIN),
    ("attempt abandon",        "B", GET):        (LOGIN,     403,    405,        403,     LOGIN,    LOGIN),
    ("attempt abandon",        "B", POST):       (LOGIN,     403,    404,        403,     LOGIN,    LOGIN),
    ("attempt abandon",        "-", GET):        (LOGIN,     403,    405,        403,     LOGIN,    LOGIN),
    ("attempt abandon",        "-", POST):       (LOGIN,     403,    404,        403,     LOGIN,    LOGIN),
    ("attempt done",           "A", GET):        (LOGIN,     403,    200,        404,     LOGIN,    LOGIN),
    ("attempt done",           "A", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("attempt done",           "B", GET):        (LOGIN,     403,    404,        404,     LOGIN,    LOGIN),
    ("attempt done",           "B", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    ("attempt done",           "-", GET):        (LOGIN,     403,    404,        404,     LOGIN,    LOGIN),
    ("attempt done",           "-", POST):       (LOGIN,     403,    405,        405,     LOGIN,    LOGIN),
    # The callback carries the A admin's state: only that admin, in that session, may finish the attempt.
    ("OAuth callback",         "",  GET):        (400,       400,    Writes(302), 400,    400,      400),
    ("OAuth callback",         "",  POST):       (405,       405,    405,        405,     405,      405),
    ("console",                "",  GET):        (LOGIN,     403,    403,        200,     LOGIN,    LOGIN),
    ("console",                "",  POST):       (LOGIN,     403,    403,        403,     LOGIN,    LOGIN),
    ("console export.csv",     "",  GET):        (LOGIN,     403,    403,        200,     LOGIN,    LOGIN),
    ("console export.csv",     "",  POST):       (LOGIN,     403,    403,        403,     LOGIN,    LOGIN),
    ("console account",        "",  GET):        (LOGIN,     403,    403,        200,     LOGIN,    LOGIN),
    ("console account",        "",  POST):       (LOGIN,     403,    403,        403,     LOGIN,    LOGIN),
    ("console API user",       "",  GET):        (LOGIN,     403,    403,        200,     LOGIN,    LOGIN),
    ("console API user",       "",  POST):       (LOGIN,     403,    403,        403,     LOGIN,    LOGIN),
    ("API link",               "A", GET):        (401,       403,    200,        200,     200,      403),
    ("API link",               "A", POST):       (405,       405,    405,        405,     405,      405),
    ("API link",               "B", GET):        (401,       403,    404,        200,     200,      403),
    ("API link",               "B", POST):       (405,       405,    405,        405,     405,      405),
    ("API link",               "-", GET):        (401,       403,    404,        404,     404,      403),
    ("API link",               "-", POST):       (405,       405,    405,        405,     405,      405),
    ("API links",              "",  GET):        (401,       403,    403,        200,     200,      403),
    ("API links",              "",  POST):       (405,       405,    405,        405,     405,      405),
    ("API API user",           "",  GET):        (401,       403,    403,        200,     200,      403),
    ("API API user",           "",  POST):       (405,       405,    405,        405,     405,      405),
    # Access tokens go to token-scoped service keys only, for any account; never to a portal session.
    ("API access token",       "A", GET):        (405,       405,    405,        405,     405,      405),
    ("API access token",       "A", POST):       (401,       401,    401,        401,     403,      Writes(200)),
    ("API access token",       "B", GET):        (405,       405,    405,        405,     405,      405),
    ("API access token",       "B", POST):       (401,       401,    401,        401,     403,      Writes(200)),
    ("API access token",       "-", GET):        (405,       405,    405,        405,     405,      405),
    ("API access token",       "-", POST):       (401,       401,    401,        401,     403,      404),
    # The schema and its docs are public: they describe the API and hold no data.
    ("API openapi.json",       "",  GET):        (200,       200,    200,        200,     200,      200),
    ("API openapi.json",       "",  POST):       (405,       405,    405,        405,     405,      405),
    ("API docs",               "",  GET):        (200,       200,    200,        200,     200,      200),
    ("API docs",               "",  POST):       (405,       405,    405,        405,     405,      405),
    ("API root",               "",  GET):        (404,       404,    404,        404,     404,      404),
    ("API root",               "",  POST):       (404,       404,    404,        404,     404,      404),
    ("API unknown path",       "",  GET):        (404,       404,    404,        404,     404,      404),
    ("API unknown path",       "",  POST):       (404,       404,    404,        404,     404,      404),
}
# fmt: on

CELLS = [
    pytest.param(url, account, method, caller, expected, id=f"{url}{account and f' on {account}'} {method} {caller}")
    for (url, account, method), row in MATRIX.items()
    for caller, expected in zip(CALLERS, row, strict=True)
]

#: The tables a link lives in: a refused request must leave them exactly as they were.
LINK_TABLES = (SalesforceLink, SalesforceToken, PendingAuthorization, PendingRevoke, LinkEvent)


def link_tables() -> list[list[tuple]]:
    """Every row of the link tables (plain SQL: the ORM would make this the matrix's slowest step)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        rows = []
        for model in LINK_TABLES:
            cursor.execute(f"SELECT * FROM {quote(model._meta.db_table)} ORDER BY {quote(model._meta.pk.column)}")
            rows.append(cursor.fetchall())
    return rows


def status_of(expected: Expected) -> int:
    if isinstance(expected, Writes):
        return expected.status
    return 302 if expected == LOGIN else expected


def send(client: Client, method: str, call: Call) -> HttpResponse:
    return client.get(call.path, call.data) if method == GET else client.post(call.path, call.data)


def is_api(url: str) -> bool:
    return URLS[url].view_name.startswith("api-v1:")


@pytest.mark.django_db
@pytest.mark.usefixtures("fake_sf")
@pytest.mark.parametrize(("url", "account", "method", "caller", "expected"), CELLS)
def test_permission_matrix(portal: Portal, url: str, account: str, method: str, caller: str, expected: Expected):
    call = URLS[url].call(portal, portal.scopes[account or "A"])
    assert resolve(urlsplit(call.path).path).view_name == URLS[url].view_name
    before = link_tables()

    response = send(client_for(portal, caller), method, call)

    status = status_of(expected)
    assert response.status_code == status
    if status in (302, 303):
        location = urlsplit(response["Location"])
        assert (location.path == reverse("login")) == (expected == LOGIN)
        if expected == LOGIN:
            assert parse_qs(location.query)["next"] == [response.wsgi_request.get_full_path()]
    if status == 403:
        assert CSRF_FAILURE not in response.content  # refused for who the caller is, not for a missing token
    if status >= 400:
        assert not any(name.encode() in response.content for name in ACCOUNT_NAMES)
    if is_api(url) and status >= 400:
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["detail"]
    assert (link_tables() != before) == isinstance(expected, Writes)


# --- Foreign accounts, CSRF -------------------------------------------------------------------------------

SCOPED = [name for name, url in URLS.items() if url.scoped]
_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def _answer(response: HttpResponse) -> tuple[int, str, bytes]:
    """Status, type and body, without the CSRF token a page renders afresh each time."""
    return response.status_code, response["Content-Type"], _CSRF_INPUT.sub(b"", response.content)


@pytest.mark.django_db
@pytest.mark.usefixtures("fake_sf")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("url", SCOPED)
def test_a_foreign_account_answers_an_admin_exactly_like_a_missing_one(portal: Portal, url: str, method: str):
    """Checklist D1: an admin cannot even learn that account B exists."""
    client = client_for(portal, "admin")
    foreign, missing = (send(client, method, URLS[url].call(portal, portal.scopes[name])) for name in ("B", MISSING))
    assert foreign.status_code != 200
    assert _answer(foreign) == _answer(missing)


PAGES = [name for name in URLS if not is_api(name)]


@pytest.mark.django_db
@pytest.mark.usefixtures("fake_sf")
@pytest.mark.parametrize("url", PAGES)
def test_a_session_post_without_a_csrf_token_is_refused_and_changes_nothing(portal: Portal, url: str):
    """Checklist B4: the admin's POST without the token, which the matrix shows would be let through or
    refused otherwise, meets Django's CSRF refusal first."""
    before = link_tables()
    response = send(client_for(portal, "admin", csrf=False), POST, URLS[url].call(portal, portal.scopes["A"]))
    assert response.status_code == 403
    assert CSRF_FAILURE in response.content
    assert link_tables() == before


@pytest.mark.django_db
@pytest.mark.usefixtures("fake_sf")
@pytest.mark.parametrize("caller", ["read_key", "token_key"])
@pytest.mark.parametrize("url", [name for name in URLS if is_api(name)])
def test_a_service_key_needs_no_csrf_token(portal: Portal, url: str, caller: str):
    """A Bearer key is no ambient credential: without a CSRF token, every API POST answers as in the matrix."""
    account = "A" if URLS[url].scoped else ""
    expected = MATRIX[url, account, POST][CALLERS.index(caller)]
    response = send(client_for(portal, caller, csrf=False), POST, URLS[url].call(portal, portal.scopes["A"]))
    assert response.status_code == status_of(expected)


# --- The guard: every URL pattern is in the matrix --------------------------------------------------------

#: URL patterns outside the matrix, by route prefix, and why. Static files are no URL pattern (WhiteNoise's
#: middleware serves them before URL resolution), so there is nothing to leave out for them.
NOT_IN_THE_MATRIX = {
    "django-admin/": "Django's admin site: staff users only, behind its own permission checks",
    "login/": "Django's login page: open to everyone by design (throttling: tests/test_login_throttle.py)",
    "logout/": "Django's logout: ends the caller's own session, whoever they are",
    "_emulator/": "the Salesforce emulator: mounted only in development (SALESFORCE_EMULATOR), not the portal",
}


def url_patterns(
    patterns: Iterable[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """Yield (route, view name) for every pattern, through every include; an unnamed one is named by its route."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, route, ":".join(filter(None, [namespace, pattern.namespace])))
        elif pattern.name:
            yield route, f"{namespace}:{pattern.name}" if namespace else pattern.name
        else:
            yield route, route


def unlisted(patterns: Iterable[URLPattern | URLResolver]) -> set[str]:
    """Return the view names of the patterns the matrix does not list and does not leave out on purpose."""
    listed = {url.view_name for url in URLS.values()}
    return {
        name
        for route, name in url_patterns(patterns)
        if not route.startswith(tuple(NOT_IN_THE_MATRIX)) and name not in listed
    }


def test_every_url_of_the_portal_is_in_the_matrix():
    assert unlisted(get_resolver().url_patterns) == set()


def test_every_url_in_the_matrix_exists():
    assert {url.view_name for url in URLS.values()} <= {name for _, name in url_patterns(get_resolver().url_patterns)}


def test_the_guard_reports_a_url_the_matrix_does_not_list():
    def view(request):
        return HttpResponse()

    extra = [
        path("reports/", view, name="reports"),
        path("support/", include(([path("audit/", view, name="audit"), path("raw/", view)], "support"))),
        path("django-admin/extra/", view, name="extra"),
    ]
    assert unlisted([*get_resolver().url_patterns, *extra]) == {"reports", "support:audit", "support/raw/"}


def test_the_matrix_lists_get_and_post_for_every_url_on_each_account():
    rows = {
        (name, account, method)
        for name, url in URLS.items()
        for account in (("A", "B", MISSING) if url.scoped else ("",))
        for method in METHODS
    }
    assert set(MATRIX) == rows
