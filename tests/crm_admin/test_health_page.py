"""The CRM Admin page shows the last health result, when it was checked, and what to do when it needs attention."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm_admin.models import LinkEvent, LinkEventAction, LinkHealth
from tests.factories import ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db

PAGE = "/accounts/acme/crm-admin/"


def test_never_checked_link_says_so(account, admin_client_):
    make_linked(account, ApiUserFactory())
    assert "Not checked yet" in admin_client_.get(PAGE).content.decode()


def test_healthy_link_shows_the_result_and_when(account, admin_client_):
    link = make_linked(account, ApiUserFactory())
    link.health = LinkHealth.HEALTHY
    link.health_checked_at = timezone.now()
    link.save()
    page = admin_client_.get(PAGE).content.decode()
    assert 'badge--healthy">Healthy' in page and f"{link.health_checked_at:%H:%M} UTC" in page


def test_failing_checks_are_explained_without_alarm(account, admin_client_):
    link = make_linked(account, ApiUserFactory())
    link.health = LinkHealth.HEALTHY
    link.health_checked_at = link.health_failing_since = timezone.now()
    link.health_note = "Salesforce did not answer in time, or answered with an error."
    link.save()
    page = admin_client_.get(PAGE).content.decode()
    assert "has not answered the checks since" in page and "Needs attention" not in page


@pytest.mark.parametrize("who", ["admin", "support"])
def test_needs_attention_shows_the_reason_and_relink(account, admin_client_, support_client, who):
    link = make_linked(account, ApiUserFactory())
    link.health = LinkHealth.ATTENTION
    link.health_checked_at = link.attention_since = timezone.now()
    link.attention_code = "missing_permissions"
    link.attention_reason = "The API user no longer has required permissions: Edit Tasks."
    link.save()
    client = admin_client_ if who == "admin" else support_client
    page = client.get(PAGE).content.decode()
    assert "Needs attention" in page and "no longer has required permissions: Edit Tasks" in page
    assert ("<strong>Relink</strong> (below)" in page) is (who == "admin")
    assert "Relink" in page


@pytest.mark.parametrize(
    ("code", "recovers_by_itself"),
    [("grant_revoked", False), ("token_unreadable", False), ("missing_permissions", True), ("user_inactive", True)],
)
def test_the_notice_says_whether_fixing_salesforce_is_enough_or_only_a_relink(
    account, admin_client_, code, recovers_by_itself
):
    link = make_linked(account, ApiUserFactory())
    link.health = LinkHealth.ATTENTION
    link.health_checked_at = link.attention_since = timezone.now()
    link.attention_code, link.attention_reason = code, "Something broke."
    link.save()
    page = admin_client_.get(PAGE).content.decode()
    assert ("recovers by itself at its next health check" in page) is recovers_by_itself
    assert ("<strong>Relink</strong> (below) to restore it." in page) is not recovers_by_itself


def test_access_tokens_issued_do_not_crowd_the_recent_activity(account, admin_client_):
    make_linked(account, ApiUserFactory())
    LinkEvent.objects.create(account=account, action=LinkEventAction.LINKED, detail={})
    for _ in range(6):
        LinkEvent.objects.create(account=account, action=LinkEventAction.TOKEN_ISSUED, detail={"api_key_id": 1})
    page = admin_client_.get(PAGE).content.decode()
    assert "Access token issued" not in page and "Linked" in page
