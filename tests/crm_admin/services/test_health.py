from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from crm_admin import crypto, exceptions
from crm_admin.models import (
    LinkEvent,
    LinkHealth,
    LinkNotification,
    PendingRevoke,
    RevokeReason,
    SalesforceLink,
    SalesforceToken,
)
from crm_admin.services import grants
from crm_admin.services.health import CheckOutcome, api_user_links_check_task, link_check_health
from crm_admin.services.notifications import link_attention_notify
from tests.factories import AccountFactory, ApiUserFactory, UserFactory, make_linked

pytestmark = pytest.mark.django_db


def events(account, action=None):
    rows = LinkEvent.objects.filter(account=account)
    return list((rows.filter(action=action) if action else rows).values_list("action", flat=True))


def reload(link) -> SalesforceLink:
    return SalesforceLink.objects.get(pk=link.pk)


def test_healthy_link_is_recorded_once_then_checks_change_nothing(account, fake_sf):
    link = make_linked(account, ApiUserFactory(), refresh_token="good")
    assert link_check_health(link_id=link.pk) is CheckOutcome.HEALTHY
    assert link_check_health(link_id=link.pk) is CheckOutcome.HEALTHY
    link = reload(link)
    assert link.health == LinkHealth.HEALTHY and link.health_checked_at is not None
    assert events(account) == ["healthy"]
    assert [name for name, _ in fake_sf.calls].count("refresh") == 2
    assert {"identity", "user_permissions"} <= {name for name, _ in fake_sf.calls}


def test_revoked_grant_needs_attention_once_with_one_email(
    account, admin_user, fake_sf, django_capture_on_commit_callbacks
):
    admin_user.email = "admin@acme.example"
    admin_user.save()
    link = make_linked(account, ApiUserFactory(), refresh_token="dead")
    fake_sf.refresh_invalid.add("dead")
    with django_capture_on_commit_callbacks(execute=True):
        assert link_check_health(link_id=link.pk) is CheckOutcome.ATTENTION
        assert link_check_health(link_id=link.pk) is CheckOutcome.ATTENTION
    link = reload(link)
    assert link.needs_attention and link.attention_code == "grant_revoked"
    assert "revoked" in link.attention_reason
    assert events(account) == ["sf_revoked"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@acme.example"]
    assert "revoked" in mail.outbox[0].body and "/accounts/acme/crm-admin/" in mail.outbox[0].body
    # A revoked grant does not come back by itself: the email says so, as the page does.
    assert "Only a relink restores it" in mail.outbox[0].body
    assert "recovers by itself" not in mail.outbox[0].body


@pytest.mark.parametrize(
    ("reason", "relink_only"),
    [
        ("grant_revoked", True),
        ("token_unreadable", True),
        ("missing_permissions", False),
        ("user_inactive", False),
        ("api_disabled", False),
    ],
)
def test_the_email_says_whether_the_link_can_recover_by_itself(account, admin_user, reason, relink_only):
    admin_user.email = "admin@acme.example"
    admin_user.save()
    event = LinkEvent.objects.create(
        account=account, action="attention", detail={"reason": reason, "message": "What broke."}
    )
    link_attention_notify(event_id=event.pk)
    body = mail.outbox[0].body
    assert ("Only a relink restores it" in body) is relink_only
    assert ("recovers by itself at the next health check" in body) is not relink_only


def test_attention_email_is_never_sent_twice_for_one_transition(account, admin_user, fake_sf):
    admin_user.email = "admin@acme.example"
    admin_user.save()
    support = UserFactory(username="helper", role="support", email="support@vcc.example")
    account.members.add(support)
    event = LinkEvent.objects.create(account=account, action="attention", detail={"message": "Fix it."})
    assert link_attention_notify(event_id=event.pk) == 1
    assert link_attention_notify(event_id=event.pk) == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["admin@acme.example"]  # admins only
    assert LinkNotification.objects.get(event=event).sent_at is not None


def test_temporary_failure_keeps_a_healthy_link_healthy_within_the_grace_period(account, fake_sf, settings):
    link = make_linked(account, ApiUserFactory(), refresh_token="good")
    link_check_health(link_id=link.pk)
    fake_sf.fail["refresh"] = exceptions.SalesforceUnavailableError()
    assert link_check_health(link_id=link.pk) is CheckOutcome.UNKNOWN
    link = reload(link)
    assert link.health == LinkHealth.HEALTHY and not link.needs_attention
    assert link.health_failing_since is not None and "did not answer" in link.health_note
    assert link.next_check_at <= timezone.now() + settings.HEALTH_CHECK_RETRY_INTERVAL
    assert events(account) == ["healthy"]
    with time_machine.travel(timezone.now() + settings.HEALTH_CHECK_GRACE_PERIOD - timedelta(minutes=1)):
        assert link_check_health(link_id=link.pk) is CheckOutcome.UNKNOWN
    assert reload(link).health == LinkHealth.HEALTHY


def test_failures_beyond_the_grace_period_need_attention(account, fake_sf, settings):
    link = make_linked(account, ApiUserFactory(), refresh_token="good")
    link_check_health(link_id=link.pk)
    fake_sf.fail["refresh"] = exceptions.SalesforceRateLimitedError()
    link_check_health(link_id=link.pk)
    with time_machine.travel(timezone.now() + settings.HEALTH_CHECK_GRACE_PERIOD + timedelta(minutes=1)):
        assert link_check_health(link_id=link.pk) is CheckOutcome.ATTENTION
    link = reload(link)
    assert link.attention_code == "unreachable" and "request limit" in link.attention_reason
    assert events(account) == ["attention", "healthy"]


def test_temporary_failure_of_a_never_checked_link_is_unknown(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    fake_sf.fail["identity"] = exceptions.SalesforceUnavailableError()
    assert link_check_health(link_id=link.pk) is CheckOutcome.UNKNOWN
    assert reload(link).health == LinkHealth.UNKNOWN
    assert events(account) == ["unknown"]


def test_removed_permission_needs_attention_naming_it_and_recovers_when_restored(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    fake_sf.permissions["PermissionsEditTask"] = False
    assert link_check_health(link_id=link.pk) is CheckOutcome.ATTENTION
    link = reload(link)
    assert link.attention_code == "missing_permissions" and "Edit Tasks" in link.attention_reason
    fake_sf.permissions["PermissionsEditTask"] = True
    assert link_check_health(link_id=link.pk) is CheckOutcome.HEALTHY
    link = reload(link)
    assert not link.needs_attention and link.health == LinkHealth.HEALTHY and link.attention_reason == ""
    assert events(account) == ["healthy", "attention"]


def test_inactive_api_user_needs_attention(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    fake_sf.identity = replace(fake_sf.identity, active=False)
    assert link_check_health(link_id=link.pk) is CheckOutcome.ATTENTION
    assert reload(link).attention_code == "user_inactive"


def test_api_disabled_for_org_needs_attention(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    fake_sf.fail["user_permissions"] = exceptions.SalesforceApiDisabledError()
    assert link_check_health(link_id=link.pk) is CheckOutcome.ATTENTION
    assert "API_DISABLED_FOR_ORG" in reload(link).attention_reason


def test_undecryptable_token_needs_attention_without_calling_salesforce(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    SalesforceToken.objects.filter(pk=link.token_id).update(refresh_token_encrypted="gAAAAAcorrupt")
    assert link_check_health(link_id=link.pk) is CheckOutcome.ATTENTION
    assert "cannot be decrypted" in reload(link).attention_reason
    assert fake_sf.calls == []


def test_a_link_relinked_during_the_check_is_not_marked(account, fake_sf, monkeypatch):
    link = make_linked(account, ApiUserFactory(), refresh_token="old")
    fake_sf.refresh_invalid.add("old")
    real_refresh = fake_sf.refresh

    def relink_meanwhile(client, **kwargs):
        new = SalesforceToken.objects.create(refresh_token_encrypted=crypto.encrypt("x"), issued_at=link.linked_at)
        SalesforceLink.objects.filter(pk=link.pk).update(token=new)
        return real_refresh(client, **kwargs)

    from crm_admin.salesforce import SalesforceClient

    monkeypatch.setattr(SalesforceClient, "refresh", lambda self, **kw: relink_meanwhile(self, **kw))
    assert link_check_health(link_id=link.pk) is CheckOutcome.SKIPPED
    assert not reload(link).needs_attention and events(account) == []


def test_a_check_of_a_grant_being_refreshed_elsewhere_is_busy(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    owner = grants.grant_lease_claim(token_id=link.token_id)
    assert owner is not None
    assert link_check_health(link_id=link.pk) is CheckOutcome.BUSY
    assert fake_sf.calls == []
    grants.grant_lease_release(token_id=link.token_id, owner=owner)
    assert link_check_health(link_id=link.pk) is CheckOutcome.HEALTHY


def test_an_expired_lease_can_be_claimed_again(account):
    link = make_linked(account, ApiUserFactory())
    assert grants.grant_lease_claim(token_id=link.token_id) is not None
    assert grants.grant_lease_claim(token_id=link.token_id) is None
    with time_machine.travel(timezone.now() + grants.LEASE_DURATION + timedelta(seconds=1)):
        assert grants.grant_lease_claim(token_id=link.token_id) is not None


def test_rotated_refresh_token_is_kept_encrypted(account, fake_sf):
    link = make_linked(account, ApiUserFactory(), refresh_token="first")
    fake_sf.rotate = True
    assert link_check_health(link_id=link.pk) is CheckOutcome.HEALTHY
    token = SalesforceToken.objects.get(pk=link.token_id)
    stored = crypto.decrypt(token.refresh_token_encrypted)
    assert stored.startswith("rotated-") and stored not in token.refresh_token_encrypted
    assert link_check_health(link_id=link.pk) is CheckOutcome.HEALTHY  # the rotated token works
    assert [call["token"] for name, call in fake_sf.calls if name == "refresh"] == ["first", stored]


def test_rotated_token_of_a_link_unlinked_meanwhile_is_queued_for_revoking(account, fake_sf, monkeypatch):
    link = make_linked(account, ApiUserFactory(), refresh_token="first")
    fake_sf.rotate = True
    real_refresh = fake_sf.refresh

    def unlink_meanwhile(client, **kwargs):
        answer = real_refresh(client, **kwargs)
        SalesforceLink.objects.filter(pk=link.pk).update(
            token=None, status="unlinked", api_user=None, slot=None, link_key=None, org_id="", api_username=""
        )
        return answer

    from crm_admin.salesforce import SalesforceClient

    monkeypatch.setattr(SalesforceClient, "refresh", lambda self, **kw: unlink_meanwhile(self, **kw))
    assert link_check_health(link_id=link.pk) is CheckOutcome.SKIPPED
    pending = PendingRevoke.objects.get(reason=RevokeReason.ROTATED)
    assert crypto.decrypt(pending.token_encrypted).startswith("rotated-")


def test_task_checks_every_link_of_the_api_user(fake_sf):
    api_user = ApiUserFactory()
    links = [make_linked(AccountFactory(), api_user, refresh_token=f"t{n}") for n in range(3)]
    make_linked(AccountFactory(), ApiUserFactory(), refresh_token="someone-else")
    fake_sf.refresh_invalid.add("t0")
    result = api_user_links_check_task.enqueue(api_user_id=api_user.pk)
    assert result.return_value == {"attention": 1, "healthy": 2}
    assert [reload(x).needs_attention for x in links] == [True, False, False]


def test_a_link_unlinked_between_lease_and_refresh_is_skipped(account, fake_sf, monkeypatch):
    link = make_linked(account, ApiUserFactory())
    real_claim = grants.grant_lease_claim

    def unlink_after_claim(*, token_id):
        owner = real_claim(token_id=token_id)
        SalesforceLink.objects.filter(pk=link.pk).update(
            token=None, status="unlinked", api_user=None, slot=None, link_key=None, org_id="", api_username=""
        )
        SalesforceToken.objects.filter(pk=token_id).delete()
        return owner

    monkeypatch.setattr(grants, "grant_lease_claim", unlink_after_claim)
    assert link_check_health(link_id=link.pk) is CheckOutcome.SKIPPED
    assert fake_sf.calls == [] and events(account) == []
