"""SQL queries per request for every page and API endpoint, held to a budget at two data sizes (issue 10).

Each ``Budget`` names a URL, who calls it and the most queries it may take; the count must also be the
same with many more accounts, links and events, so no query per row can creep in. A new URL needs a
budget here (or a reason in ``NOT_BUDGETED``): ``test_every_url_has_a_budget`` fails until it has one.
The figures assume the default configuration: sessions in the database, so the session and the user with
their permissions are the first two queries of every logged-in request; a service API key is one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from api.models import ApiScope
from api.services import api_key_create
from crm_admin import crypto
from crm_admin.keyset import LAST
from crm_admin.models import LinkEvent, LinkEventAction, SalesforceToken
from crm_admin.services import links as link_services
from tests.conftest import logged_in
from tests.factories import AccountFactory, ApiUserFactory, UserFactory, make_linked

pytestmark = pytest.mark.django_db

#: Namespaces outside the portal's own pages and API.
OTHER_NAMESPACES = {"admin", "salesforce_emulator"}
#: URLs without a budget, and why.
NOT_BUDGETED = {
    "logout": "POST only; ends the session",
    "crm_admin:link_start": "POST only; a write that starts an attempt (bench: the flow)",
    "crm_admin:attempt_abandon": "POST only; a write",
    "crm_admin:salesforce_callback": "talks to Salesforce; measured by make bench (the callback's own cost)",
    "api-v1:api-root": "django-ninja's root: no operation",
    "api-v1:unknown": "the JSON 404 for any other path under /api/v1/",
}


@dataclass
class World:
    """An admin with two accounts (one Linked, with an attempt waiting and a cached access token),
    support, service API keys by scope, and other accounts."""

    admin: object
    support: object
    slug: str
    attempt: object
    api_user: object
    keys: dict[str, str]

    def grow(self, accounts: int) -> None:
        """Add accounts, links on the same API user, and history: nothing a page shows should cost more."""
        api_user = ApiUserFactory()
        for account in AccountFactory.create_batch(accounts):
            if account.pk % 2:
                make_linked(account, api_user if api_user.links.count() < 5 else ApiUserFactory())
            LinkEvent.objects.bulk_create(
                LinkEvent(account=account, actor=self.admin, action=LinkEventAction.REFUSED) for _ in range(3)
            )
        page_account = self.admin.vcc_accounts.get(slug=self.slug)
        LinkEvent.objects.bulk_create(
            LinkEvent(account=page_account, actor=self.admin, action=LinkEventAction.REFUSED) for _ in range(20)
        )


@pytest.fixture
def world(db) -> World:
    admin = UserFactory(username="acme.admin", role="admin")
    account = AccountFactory(slug="acme", members=[admin])
    AccountFactory(slug="acme-uat", members=[admin])
    api_user = ApiUserFactory()
    make_linked(account, api_user)
    for _ in range(2):
        make_linked(AccountFactory(), api_user)
    start = link_services.link_start(
        user=admin, account=account, org_type="production", session_key="test", client_ref=uuid.uuid4()
    )
    SalesforceToken.objects.filter(link__account=account).update(
        access_token_encrypted=crypto.encrypt("00D000000000001!cached-access-token"),
        access_token_expires_at=timezone.now() + timedelta(hours=2),
    )
    return World(
        admin=admin,
        support=UserFactory(username="support", role="support"),
        slug=account.slug,
        attempt=start.attempt,
        api_user=api_user,
        keys={scope: api_key_create(name=f"{scope}-service", scopes=[scope]).raw_key for scope in ApiScope.values},
    )


@dataclass(frozen=True)
class Budget:
    url_name: str
    #: "admin", "support" or "anonymous", or a service API key's scope ("read", "token").
    caller: str
    max_queries: int
    url: Callable[[World], str]
    status: int = 200
    method: str = "GET"
    #: Tells apart budgets of the same URL and caller (a search, the last page).
    label: str = ""

    @property
    def id(self) -> str:
        return "-".join(part for part in (self.url_name, self.caller, self.label) if part)


def _page(world: World) -> str:
    return reverse("crm_admin:page", args=[world.slug])


BUDGETS = [
    Budget("login", "anonymous", 0, lambda world: reverse("login")),
    # Home and the shortcut list an admin's accounts (or redirect a user with one); support gets the
    # cached summary.
    Budget("crm_admin:home", "admin", 3, lambda world: reverse("crm_admin:home")),
    Budget("crm_admin:home", "support", 2, lambda world: reverse("crm_admin:home")),
    Budget("crm_admin:shortcut", "admin", 3, lambda world: reverse("crm_admin:shortcut")),
    # Session, user with permissions, account with link, recent events.
    Budget("crm_admin:page", "admin", 4, _page),
    Budget("crm_admin:page", "support", 4, _page),
    Budget("crm_admin:unlink", "admin", 4, lambda world: reverse("crm_admin:unlink", args=[world.slug])),
    Budget(
        "crm_admin:attempt_status",
        "admin",
        4,
        lambda world: reverse("crm_admin:attempt_status", args=[world.slug]) + f"?ref={world.attempt.client_ref}",
    ),
    Budget(
        "crm_admin:attempt_done",
        "admin",
        4,
        lambda world: reverse("crm_admin:attempt_done", args=[world.slug, world.attempt.pk]),
    ),
    # The support console: a page of rows, and their count unless it is the cached summary's total.
    Budget("support:links", "support", 3, lambda world: reverse("support:links")),
    Budget("support:links", "support", 4, lambda world: reverse("support:links") + "?q=account", label="search"),
    Budget("support:links", "support", 3, lambda world: reverse("support:links") + f"?cursor={LAST}", label="last"),
    Budget("support:links_export", "support", 3, lambda world: reverse("support:links_export")),
    Budget("support:account", "support", 5, lambda world: reverse("support:account", args=[world.slug])),
    Budget(
        "support:api_user",
        "support",
        4,
        lambda world: reverse("support:api_user", args=[world.api_user.org_id, world.api_user.user_id]),
    ),
    # The status API, for a service key and for a portal session: the key (or the session and the user),
    # then the same reads as the console's (a list's total from the cached summary).
    Budget("api-v1:salesforce_link", "read", 3, lambda world: reverse("api-v1:salesforce_link", args=[world.slug])),
    Budget("api-v1:salesforce_link", "support", 4, lambda world: reverse("api-v1:salesforce_link", args=[world.slug])),
    Budget("api-v1:salesforce_links", "read", 2, lambda world: reverse("api-v1:salesforce_links")),
    Budget("api-v1:salesforce_links", "support", 3, lambda world: reverse("api-v1:salesforce_links")),
    Budget(
        "api-v1:api_user",
        "read",
        3,
        lambda world: reverse("api-v1:api_user", args=[world.api_user.org_id, world.api_user.user_id]),
    ),
    # A cached access token: the key, the account, the link with its grant, the audit row.
    Budget(
        "api-v1:access_token",
        "token",
        4,
        lambda world: reverse("api-v1:access_token", args=[world.slug]),
        method="POST",
    ),
    Budget("api-v1:openapi-json", "anonymous", 0, lambda world: reverse("api-v1:openapi-json")),
    Budget("api-v1:openapi-view", "anonymous", 0, lambda world: reverse("api-v1:openapi-view")),
]


def _client(world: World, caller: str) -> Client:
    if caller in world.keys:
        return Client(headers={"authorization": f"Bearer {world.keys[caller]}"})
    return Client() if caller == "anonymous" else logged_in(getattr(world, caller))


def _queries(client: Client, budget: Budget, url: str) -> list[str]:
    client.generic(budget.method, url)  # the first request of a client may warm per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.generic(budget.method, url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == budget.status, (url, response.content[:300])
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("budget", BUDGETS, ids=lambda budget: budget.id)
def test_queries_stay_within_budget_whatever_the_data_size(budget, world):
    client = _client(world, budget.caller)
    small = _queries(client, budget, budget.url(world))
    world.grow(accounts=30)
    large = _queries(client, budget, budget.url(world))
    assert len(small) <= budget.max_queries, "\n".join(small)
    assert len(large) == len(small), "\n".join(large)


def _named_urls(patterns: list, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _named_urls(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name and namespace not in OTHER_NAMESPACES:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_url_has_a_budget():
    budgeted = {budget.url_name for budget in BUDGETS}
    missing = _named_urls(get_resolver().url_patterns) - budgeted - set(NOT_BUDGETED)
    assert not missing, f"Add a Budget (or a NOT_BUDGETED reason) for: {', '.join(sorted(missing))}"
