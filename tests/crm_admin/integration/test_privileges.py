"""The API user's privileges and standing, against emulator users made for each outcome."""

from __future__ import annotations

import pytest

from crm_admin.models import AuthorizationOutcome, LinkStatus, PendingAuthorization, PendingRevoke, SalesforceLink
from tests.crm_admin.integration.conftest import Portal

pytestmark = pytest.mark.django_db(transaction=True)


def outcome() -> PendingAuthorization:
    return PendingAuthorization.objects.order_by("-created_at").first()


def live_grants(username: str) -> int:
    from salesforce_emulator.models import RefreshToken

    return RefreshToken.objects.filter(user__username=username, revoked_at__isnull=True).count()


@pytest.mark.parametrize(
    ("username", "expected", "text"),
    [
        ("noapi@acme.example", AuthorizationOutcome.REFUSED, "lacks required permissions: API Enabled."),
        ("notask@acme.example", AuthorizationOutcome.REFUSED, "lacks required permissions: Edit Tasks."),
        ("admin@noapi.example", AuthorizationOutcome.FAILED, "API_DISABLED_FOR_ORG"),
    ],
)
def test_refusals_after_the_grant_name_the_cause_and_revoke_it(portal: Portal, username, expected, text):
    portal.link(username)
    attempt = outcome()
    assert attempt.outcome == expected
    assert text in attempt.message
    if expected == AuthorizationOutcome.REFUSED:
        assert '"ContactWorld API user" permission set' in attempt.message
    assert SalesforceLink.objects.get(account__slug=portal.slug).status == LinkStatus.UNLINKED
    assert live_grants(username) == 0 and not PendingRevoke.objects.exists()


@pytest.mark.parametrize(
    ("username", "text"),
    [
        ("inactive@acme.example", "That Salesforce user is inactive"),
        ("admin@locked.example", "locked, closed or suspended"),
    ],
)
def test_inactive_user_or_org_is_refused_by_salesforce_itself(portal: Portal, username, text):
    portal.link(username)
    attempt = outcome()
    assert attempt.outcome == AuthorizationOutcome.FAILED and text in attempt.message
    assert SalesforceLink.objects.get(account__slug=portal.slug).status == LinkStatus.UNLINKED


def test_rate_limit_on_the_permission_query_has_its_own_message(portal: Portal):
    from salesforce_emulator import faults

    faults.inject("query", "rate_limited")
    portal.link("api@acme.example")
    assert "REQUEST_LIMIT_EXCEEDED" in outcome().message
    assert live_grants("api@acme.example") == 0


def test_missing_recommended_permissions_link_with_a_warning_on_the_page(portal: Portal):
    portal.link("basic@acme.example")
    link = SalesforceLink.objects.get(account__slug=portal.slug)
    assert link.status == LinkStatus.LINKED
    assert link.permission_warnings == ["View All Users", "View All Data", "Password Never Expires"]
    page = portal.page()
    assert "Some recommended permissions are missing" in page
    assert "View All Users, View All Data, Password Never Expires" in page


def test_sixth_account_refusal_flags_the_link_salesforce_revoked(emulator, account, admin_user):
    from tests.conftest import logged_in
    from tests.factories import AccountFactory, UserFactory

    portals = []
    for n in range(5):
        other = AccountFactory(slug=f"branch-{n}")
        admin = UserFactory(username=f"branch-admin-{n}", role="admin")
        other.members.add(admin)
        portals.append(Portal(client=logged_in(admin), slug=other.slug))
    for portal in portals:
        portal.link("api7@acme.example")
    sixth = Portal(client=logged_in(admin_user), slug=account.slug)
    sixth.link("api7@acme.example")
    assert "already linked to 5 VCC accounts" in outcome().message
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.UNLINKED
    oldest = SalesforceLink.objects.get(account__slug="branch-0")
    assert oldest.status == LinkStatus.LINKED and oldest.needs_attention
    assert [SalesforceLink.objects.get(account__slug=p.slug).needs_attention for p in portals[1:]] == [False] * 4
    page = portals[0].page()
    assert "This link no longer works" in page and "Needs attention" in page
    assert live_grants("api7@acme.example") == 4  # Salesforce dropped the oldest; we revoked the sixth

    # Relinking the flagged account with the same API user is allowed (its slot is its own) and heals it.
    portals[0].link("api7@acme.example")
    healed = SalesforceLink.objects.get(account__slug="branch-0")
    assert healed.status == LinkStatus.LINKED and not healed.needs_attention
    assert live_grants("api7@acme.example") == 5


def test_naming_the_api_user_up_front_protects_the_other_five(emulator, account, admin_user):
    from tests.conftest import logged_in
    from tests.factories import AccountFactory, UserFactory

    for n in range(5):
        other = AccountFactory(slug=f"shop-{n}")
        admin = UserFactory(username=f"shop-admin-{n}", role="admin")
        other.members.add(admin)
        Portal(client=logged_in(admin), slug=other.slug).link("api8@acme.example")
    sixth = Portal(client=logged_in(admin_user), slug=account.slug)
    response = sixth.start(login_hint="api8@acme.example")
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.slug}/crm-admin/"
    assert "already linked to 5 VCC accounts" in sixth.page()
    assert not any(link.needs_attention for link in SalesforceLink.objects.all())
    assert live_grants("api8@acme.example") == 5
