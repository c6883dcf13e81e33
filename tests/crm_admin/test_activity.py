"""The CRM Admin page's Recent activity: what happened to the link, by whom, without secrets."""

from __future__ import annotations

import uuid

import pytest

from crm_admin.models import LinkEvent, PendingAuthorization
from crm_admin.services import links as link_services
from tests.factories import ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def test_activity_lists_changes_newest_first_with_who_and_why(admin_client_, admin_user, account, support_client):
    link_services.link_mark_legacy(account=account, legacy_username="old@acme.example", org_type="production")
    LinkEvent.objects.create(
        account=account,
        actor=admin_user,
        action="refused",
        detail={"reason": "api_user_limit", "api_username": "full@acme.example", "org_type": "sandbox"},
    )
    for client in (admin_client_, support_client):
        page = client.get("/accounts/acme/crm-admin/").content.decode()
        activity = page[page.index("Recent activity") :]
        assert activity.index("Link refused") < activity.index("Marked legacy")
        assert "full@acme.example · Sandbox · API user already serves 5 accounts" in activity
        assert "old@acme.example · Production" in activity
        assert "acme.admin" in activity


def test_activity_of_an_untouched_account_says_so(admin_client_):
    assert "No changes yet." in admin_client_.get("/accounts/acme/crm-admin/").content.decode()


def test_activity_shows_the_health_check_and_never_a_token(admin_client_, account):
    link = make_linked(account, ApiUserFactory(), refresh_token="very-secret-refresh")
    LinkEvent.objects.create(account=account, action="sf_revoked", detail={"api_username": link.api_username})
    page = admin_client_.get("/accounts/acme/crm-admin/").content.decode()
    assert "Access revoked by Salesforce" in page and "Link health check" in page
    assert "very-secret-refresh" not in page and "gAAAAA" not in page


def test_final_attempt_status_carries_the_activity(admin_client_, admin_user, account):
    ref = uuid.uuid4()
    admin_client_.post(
        "/accounts/acme/crm-admin/salesforce/link/",
        {"org_type": "production", "display": "popup", "client_ref": str(ref), "login_hint": "nobody@x.com"},
    )
    status_url = f"/accounts/acme/crm-admin/salesforce/attempts/status/?ref={ref}"
    link_services.authorization_fail(attempt=PendingAuthorization.objects.get(), error="access_denied")
    payload = admin_client_.get(status_url).json()
    assert payload["final"] is True
    assert "Access not allowed in Salesforce" in payload["activity_html"]
