"""Accounts in every state the console shows, named so that searches and sorts have something to find."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from crm_admin.models import Account, LinkHealth, SalesforceApiUser, SalesforceLink
from crm_admin.salesforce import ids
from crm_admin.services.links import link_mark_legacy
from tests.factories import AccountFactory, ApiUserFactory, make_linked

LEGACY_ORG_15 = "00D000000000AbC"


@dataclass
class Directory:
    acme: Account
    globex: Account
    initech: Account
    flagged: Account
    api_user: SalesforceApiUser
    other_api_user: SalesforceApiUser


@pytest.fixture
def directory_data(db) -> Directory:
    return build_directory()


def build_directory() -> Directory:
    """Linked (two API users, one link needing attention), Legacy with an org id, and Unlinked."""
    api_user = ApiUserFactory(username="integration.user@acme.example")
    other_api_user = ApiUserFactory(username="sync@umbrella.example")
    acme = AccountFactory(slug="acme-uk", name="Acme United Kingdom")
    make_linked(acme, api_user)
    flagged = AccountFactory(slug="umbrella", name="Umbrella Corp")
    make_linked(flagged, other_api_user)
    now = timezone.now()
    SalesforceLink.objects.filter(account=acme).update(
        health=LinkHealth.HEALTHY, health_checked_at=now - timedelta(hours=1), linked_by_username="acme.admin"
    )
    SalesforceLink.objects.filter(account=flagged).update(
        attention_since=now,
        attention_code="revoked",
        attention_reason="Salesforce revoked this link's access.",
        health=LinkHealth.ATTENTION,
        health_checked_at=now,
        org_type="sandbox",
    )
    globex = AccountFactory(slug="globex", name="Globex Support Desk")
    link_mark_legacy(
        account=globex,
        legacy_username="old.api@globex.example",
        org_type="production",
        org_id=ids.to_18(LEGACY_ORG_15),
    )
    initech = AccountFactory(slug="initech", name="Initech")
    return Directory(
        acme=acme, globex=globex, initech=initech, flagged=flagged, api_user=api_user, other_api_user=other_api_user
    )
