"""link_complete: each step and each failure path, with the database state asserted after each."""

from __future__ import annotations

import pytest
from django.db import connection

from crm_admin import crypto, exceptions
from crm_admin.models import (
    AuthorizationOutcome,
    LinkEvent,
    LinkStatus,
    PendingAuthorization,
    PendingRevoke,
    SalesforceApiUser,
    SalesforceLink,
    SalesforceToken,
)
from crm_admin.services import links as link_services
from tests.crm_admin.services.conftest import link_via
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def snapshot(account) -> dict:
    """Everything a failed attempt must leave exactly as it was."""
    link = SalesforceLink.objects.get(account=account)
    return {
        "link": {f.attname: getattr(link, f.attname) for f in SalesforceLink._meta.concrete_fields},
        "tokens": list(SalesforceToken.objects.order_by("pk").values_list("pk", "refresh_token_encrypted")),
        "api_users": SalesforceApiUser.objects.count(),
    }


def last_attempt() -> PendingAuthorization:
    return PendingAuthorization.objects.order_by("-created_at").first()


def test_link_success_stores_everything_and_encrypts_the_refresh_token(admin_user, account, fake_sf):
    result = link_via(admin_user, account, fake_sf)
    link = SalesforceLink.objects.select_related("api_user", "token").get(account=account)
    assert result.relinked is False and result.warnings == []
    assert link.status == LinkStatus.LINKED
    assert link.org_type == "production"
    assert link.api_user.org_id == fake_sf.identity.org_id
    assert link.api_user.user_id == fake_sf.identity.user_id
    assert link.api_username == "api@acme.example"
    assert link.instance_url == "https://acme.my.salesforce.com"
    assert link.linked_by == admin_user and link.linked_at is not None
    assert len(link.link_key) == 64 and link.slot == 1
    assert crypto.decrypt(link.token.refresh_token_encrypted) == "refresh-0"
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token_encrypted FROM crm_admin_salesforcetoken")
        (raw,) = cursor.fetchone()
    assert raw.startswith("gAAAAA") and "refresh-0" not in raw
    assert last_attempt().outcome == AuthorizationOutcome.LINKED
    assert "Linked to Salesforce (Production) as api@acme.example" in last_attempt().message
    assert LinkEvent.objects.get(account=account).action == "linked"
    assert fake_sf.called("revoke") == 0 and not PendingRevoke.objects.exists()


def test_token_exchange_uses_the_stored_verifier_and_the_attempts_host(admin_user, account, fake_sf, settings):
    settings.SALESFORCE_SANDBOX_LOGIN_URL = "https://test.salesforce.com"
    link_via(admin_user, account, fake_sf, org_type="sandbox")
    _, call = next(c for c in fake_sf.calls if c[0] == "exchange_code")
    assert call["login_url"] == "https://test.salesforce.com"
    assert call["code_verifier"] == crypto.decrypt(last_attempt().code_verifier_encrypted)
    assert SalesforceLink.objects.get(account=account).org_type == "sandbox"


def test_relink_to_the_same_api_user_keeps_the_slot_and_revokes_the_old_grant(admin_user, account, fake_sf):
    link_via(admin_user, account, fake_sf)
    first = SalesforceLink.objects.get(account=account)
    result = link_via(admin_user, account, fake_sf, org_type="production")
    link = SalesforceLink.objects.select_related("token").get(account=account)
    assert result.relinked is True
    assert link.slot == first.slot and link.link_key != first.link_key
    assert crypto.decrypt(link.token.refresh_token_encrypted) == "refresh-1"
    assert fake_sf.revoked == ["refresh-0"]
    assert SalesforceToken.objects.count() == 1 and not PendingRevoke.objects.exists()
    assert "Relinked" in last_attempt().message


def test_relink_to_another_api_user_frees_the_first_users_slot(admin_user, account, fake_sf):
    link_via(admin_user, account, fake_sf)
    first_user = SalesforceLink.objects.get(account=account).api_user
    fake_sf.as_user(2)
    link_via(admin_user, account, fake_sf, org_type="sandbox")
    link = SalesforceLink.objects.get(account=account)
    assert link.api_user != first_user and link.org_type == "sandbox"
    assert not SalesforceLink.objects.filter(api_user=first_user, status=LinkStatus.LINKED).exists()


def test_relink_from_legacy_removes_every_legacy_field(admin_user, account, fake_sf):
    link_services.link_mark_legacy(account=account, legacy_username="old@acme.example")
    link_via(admin_user, account, fake_sf)
    link = SalesforceLink.objects.get(account=account)
    assert link.status == LinkStatus.LINKED and link.legacy_username == ""
    assert LinkEvent.objects.filter(account=account, action="relinked").exists()


def test_failed_code_exchange_changes_nothing(admin_user, account, fake_sf):
    link_services.link_mark_legacy(account=account, legacy_username="old@acme.example")
    before = snapshot(account)
    fake_sf.fail["exchange_code"] = exceptions.SalesforceOAuthError("invalid_grant")
    with pytest.raises(exceptions.SalesforceOAuthError):
        link_via(admin_user, account, fake_sf)
    assert snapshot(account) == before
    assert last_attempt().outcome == AuthorizationOutcome.FAILED
    assert fake_sf.called("revoke") == 0  # no grant was obtained


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("identity", exceptions.SalesforceUnavailableError()),
        ("identity", exceptions.SalesforceSessionInvalidError()),
        ("user_permissions", exceptions.SalesforceRateLimitedError()),
        ("user_permissions", exceptions.SalesforceApiDisabledError()),
        ("user_permissions", RuntimeError("unexpected bug")),
    ],
)
def test_failure_after_the_grant_revokes_it_and_leaves_the_link_as_it_was(admin_user, account, fake_sf, step, error):
    link_via(admin_user, account, fake_sf)  # an existing Linked link
    before = snapshot(account)
    fake_sf.fail[step] = error
    with pytest.raises(exceptions.LinkError) as raised:
        link_via(admin_user, account, fake_sf)
    assert snapshot(account) == before
    assert fake_sf.revoked == ["refresh-1"]  # the new grant, not the linked one
    assert not PendingRevoke.objects.exists()
    attempt = last_attempt()
    assert attempt.outcome == AuthorizationOutcome.FAILED
    assert attempt.message == raised.value.user_message
    assert "Traceback" not in attempt.message and "unexpected bug" not in attempt.message


def test_revoke_that_fails_keeps_the_grant_in_the_outbox(admin_user, account, fake_sf):
    fake_sf.fail["identity"] = exceptions.SalesforceUnavailableError()
    fake_sf.fail["revoke"] = exceptions.SalesforceUnavailableError()
    with pytest.raises(exceptions.SalesforceUnavailableError):
        link_via(admin_user, account, fake_sf)
    pending = PendingRevoke.objects.get()
    assert crypto.decrypt(pending.token_encrypted) == "refresh-0"
    assert pending.attempts == 1 and pending.reason == "failed"
    del fake_sf.fail["revoke"]
    from crm_admin.services.revokes import pending_revokes_retry

    assert pending_revokes_retry() == (1, 0)
    assert not PendingRevoke.objects.exists()


def test_inactive_api_user_is_refused(admin_user, account, fake_sf):
    fake_sf.identity = fake_sf.identity.__class__(**{**fake_sf.identity.__dict__, "active": False})
    with pytest.raises(exceptions.InactiveApiUserError):
        link_via(admin_user, account, fake_sf)
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.UNLINKED
    assert last_attempt().outcome == AuthorizationOutcome.REFUSED
    assert fake_sf.revoked == ["refresh-0"]


def test_missing_required_permissions_are_named_and_refused(admin_user, account, fake_sf):
    fake_sf.permissions.update(PermissionsApiEnabled=False, PermissionsEditTask=False)
    with pytest.raises(exceptions.MissingPermissionsError) as raised:
        link_via(admin_user, account, fake_sf)
    message = raised.value.user_message
    assert "API Enabled" in message and "Edit Tasks" in message
    assert '"ContactWorld API user" permission set' in message
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.UNLINKED
    assert fake_sf.revoked == ["refresh-0"]
    assert last_attempt().outcome == AuthorizationOutcome.REFUSED


def test_configured_required_permissions_are_the_ones_checked(admin_user, account, fake_sf, settings):
    settings.SALESFORCE_REQUIRED_PERMISSIONS = ["PermissionsApiEnabled", "PermissionsModifyAllData"]
    with pytest.raises(exceptions.MissingPermissionsError) as raised:
        link_via(admin_user, account, fake_sf)
    assert raised.value.labels == ["Modify All Data"]


def test_missing_recommended_permissions_link_with_a_warning(admin_user, account, fake_sf):
    fake_sf.permissions.update(PermissionsViewAllUsers=False, PermissionsPasswordNeverExpires=False)
    result = link_via(admin_user, account, fake_sf)
    assert result.warnings == ["View All Users", "Password Never Expires"]
    link = SalesforceLink.objects.get(account=account)
    assert link.status == LinkStatus.LINKED
    assert link.permission_warnings == ["View All Users", "Password Never Expires"]


def test_sixth_account_is_refused_and_the_revoked_oldest_link_is_flagged(admin_user, account, fake_sf):
    api_user = ApiUserFactory(org_id=fake_sf.identity.org_id, user_id=fake_sf.identity.user_id)
    others = [make_linked(AccountFactory(), api_user, refresh_token=f"held-{n}") for n in range(5)]
    fake_sf.refresh_invalid.add("held-0")  # Salesforce dropped the oldest approval on the sixth
    before = snapshot(account)
    with pytest.raises(exceptions.ApiUserLimitReachedError) as raised:
        link_via(admin_user, account, fake_sf)
    assert "already linked to 5 VCC accounts, which is the limit" in raised.value.user_message
    assert "Create another API user" in raised.value.user_message
    for other in others:
        assert other.account.slug not in raised.value.user_message
    assert snapshot(account) == before
    assert fake_sf.revoked == ["refresh-0"]
    assert last_attempt().outcome == AuthorizationOutcome.REFUSED
    flagged = SalesforceLink.objects.get(pk=others[0].pk)
    assert flagged.needs_attention and "revoked" in flagged.attention_reason
    assert not any(SalesforceLink.objects.get(pk=o.pk).needs_attention for o in others[1:])
    assert LinkEvent.objects.filter(account=others[0].account, action="sf_revoked").exists()


def test_legacy_links_and_unlinked_accounts_do_not_count(admin_user, account, fake_sf):
    api_user = ApiUserFactory(org_id=fake_sf.identity.org_id, user_id=fake_sf.identity.user_id)
    linked = [make_linked(AccountFactory(), api_user) for _ in range(4)]
    link_services.link_mark_legacy(account=AccountFactory(), legacy_username=api_user.username)
    link_services.link_unlink(user=admin_user, account=linked[0].account)
    link_via(admin_user, account, fake_sf)
    assert SalesforceLink.objects.filter(api_user=api_user, status=LinkStatus.LINKED).count() == 4
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.LINKED


def test_relinking_one_of_five_accounts_to_its_own_api_user_is_allowed(admin_user, account, fake_sf):
    api_user = ApiUserFactory(org_id=fake_sf.identity.org_id, user_id=fake_sf.identity.user_id)
    for _ in range(4):
        make_linked(AccountFactory(), api_user)
    make_linked(account, api_user)
    result = link_via(admin_user, account, fake_sf)
    assert result.relinked
    assert SalesforceLink.objects.filter(api_user=api_user, status=LinkStatus.LINKED).count() == 5


def test_a_consumed_attempt_cannot_link_twice(admin_user, account, fake_sf):
    from tests.crm_admin.services.conftest import SESSION, start_attempt

    _, state = start_attempt(admin_user, account)
    link_services.authorization_consume(state=state, user=admin_user, session_key=SESSION)
    with pytest.raises(exceptions.AttemptInvalidError):
        link_services.authorization_consume(state=state, user=admin_user, session_key=SESSION)
    assert fake_sf.called("exchange_code") == 0


@pytest.mark.parametrize(
    ("error", "outcome", "text"),
    [
        ("access_denied", "denied", "Access was not allowed in Salesforce"),
        ("access-denied", "denied", "Access was not allowed in Salesforce"),
        ("inactive_user", "failed", "inactive"),
        ("inactive_org", "failed", "locked, closed or suspended"),
        ("something_new", "failed", "Salesforce reported an error"),
    ],
)
def test_authorize_errors_are_recorded_without_any_change(admin_user, account, fake_sf, error, outcome, text):
    from tests.crm_admin.services.conftest import SESSION, start_attempt

    before = snapshot(account)
    _, state = start_attempt(admin_user, account)
    attempt = link_services.authorization_consume(state=state, user=admin_user, session_key=SESSION)
    failure = link_services.authorization_fail(attempt=attempt, error=error)
    assert text in failure.user_message
    assert last_attempt().outcome == outcome
    assert snapshot(account) == before
    assert fake_sf.calls == []
