"""Fixtures for the status API: service keys, a Bearer client, and a small population of links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.models import ApiScope
from api.services import IssuedKey, api_key_create
from crm_admin.models import LinkEvent, LinkEventAction, LinkHealth, SalesforceLink
from crm_admin.salesforce import ids
from crm_admin.services.links import link_mark_legacy
from tests.factories import AccountFactory, ApiUserFactory, make_linked


def bearer(issued: IssuedKey) -> Client:
    """A client that sends the key as ``Authorization: Bearer …``."""
    return Client(headers={"Authorization": f"Bearer {issued.raw_key}"})


@pytest.fixture
def read_key(db) -> IssuedKey:
    return api_key_create(name="status-reader", scopes=[ApiScope.READ])


@pytest.fixture
def token_key(db) -> IssuedKey:
    return api_key_create(name="token-only", scopes=[ApiScope.TOKEN])


@pytest.fixture
def read_client(read_key) -> Client:
    return bearer(read_key)


@pytest.fixture
def api_user(db):
    return ApiUserFactory(
        org_id=ids.to_18("00D5g000004ABCD"), user_id=ids.to_18("0055g00000AbCdE"), username="api@acme.example"
    )


@pytest.fixture
def linked(account, api_user, admin_user) -> SalesforceLink:
    """``acme`` Linked in slot 2 by its admin, healthy, with a history; and a second account of the same user."""
    make_linked(AccountFactory(slug="acme-emea", name="Acme EMEA"), api_user, slot=1)
    link = make_linked(account, api_user, slot=2)
    now = timezone.now()
    SalesforceLink.objects.filter(pk=link.pk).update(
        linked_by=admin_user,
        linked_by_username=admin_user.username,
        health=LinkHealth.HEALTHY,
        health_checked_at=now,
    )
    for minutes, action in ((30, LinkEventAction.FAILED), (20, LinkEventAction.LINKED)):
        event = LinkEvent.objects.create(
            account=account,
            actor=admin_user if action == LinkEventAction.LINKED else None,
            action=action,
            detail={"api_username": api_user.username, "org_type": "production", "reason": "unavailable"},
        )
        LinkEvent.objects.filter(pk=event.pk).update(created_at=now - timedelta(minutes=minutes))
    link.refresh_from_db()
    return link


@pytest.fixture
def needing_attention(db) -> SalesforceLink:
    account = AccountFactory(slug="initech", name="Initech")
    link = make_linked(account, ApiUserFactory(username="api@initech.example"))
    SalesforceLink.objects.filter(pk=link.pk).update(
        health=LinkHealth.ATTENTION,
        health_checked_at=timezone.now(),
        attention_since=timezone.now(),
        attention_reason="Salesforce revoked this link's access.",
        attention_code="grant_revoked",
    )
    link.refresh_from_db()
    return link


@pytest.fixture
def legacy(db) -> SalesforceLink:
    account = AccountFactory(slug="globex-legacy", name="Globex Legacy")
    link_mark_legacy(account=account, legacy_username="old@globex.example", org_type="production")
    return SalesforceLink.objects.get(account=account)


@pytest.fixture
def population(linked, needing_attention, legacy) -> None:
    """Eleven accounts: two Linked to one API user, one needing attention, one Legacy, seven Unlinked."""
    for n in range(7):
        AccountFactory(slug=f"unlinked-{n}", name=f"Unlinked {n}")
