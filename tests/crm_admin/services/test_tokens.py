from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from crm_admin import crypto, exceptions
from crm_admin.models import LinkEvent, LinkEventAction, SalesforceToken
from crm_admin.services import grants
from crm_admin.services.tokens import access_token_issue
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def issue(account):
    return access_token_issue(account=account, api_key_id=7, api_key_name="call-logger")


def test_first_request_refreshes_and_later_ones_use_the_encrypted_cache(account, fake_sf):
    link = make_linked(account, ApiUserFactory(), refresh_token="good")
    first = issue(account)
    second = issue(account)
    assert first.access_token == second.access_token == "fresh-access"
    assert fake_sf.called("refresh") == 1 and fake_sf.called("introspect") == 1
    assert first.instance_url == link.instance_url and first.org_id == link.api_user.org_id
    token = SalesforceToken.objects.get(pk=link.token_id)
    assert "fresh-access" not in token.access_token_encrypted
    assert crypto.decrypt(token.access_token_encrypted) == "fresh-access"
    assert abs((first.expires_at - timezone.now()) - timedelta(hours=2)) < timedelta(minutes=1)


def test_every_token_issued_is_audited_without_the_token(account, fake_sf):
    make_linked(account, ApiUserFactory())
    issue(account)
    issue(account)
    rows = LinkEvent.objects.filter(account=account, action=LinkEventAction.TOKEN_ISSUED)
    assert rows.count() == 2
    detail = rows.first().detail
    assert detail["api_key_id"] == 7 and detail["api_key_name"] == "call-logger" and "expires_at" in detail
    assert "fresh-access" not in str(list(rows.values_list("detail", flat=True)))


def test_a_token_close_to_expiry_is_refreshed(account, fake_sf):
    make_linked(account, ApiUserFactory())
    issue(account)
    with time_machine.travel(timezone.now() + timedelta(hours=2) - grants.ACCESS_TOKEN_MARGIN + timedelta(seconds=5)):
        issue(account)
    assert fake_sf.called("refresh") == 2


def test_without_introspection_the_conservative_lifetime_applies(account, fake_sf, settings):
    make_linked(account, ApiUserFactory())
    fake_sf.fail["introspect"] = exceptions.SalesforceUnavailableError()
    issued = issue(account)
    expected = timezone.now() + settings.SALESFORCE_ACCESS_TOKEN_TTL
    assert abs(issued.expires_at - expected) < timedelta(seconds=30)


def test_unlinked_account_is_refused(account, fake_sf):
    with pytest.raises(exceptions.NotLinkedError):
        issue(account)
    assert fake_sf.calls == []


def test_link_that_needs_attention_is_refused_with_the_reason(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    link.attention_since = timezone.now()
    link.attention_reason = "The API user is inactive."
    link.attention_code = "user_inactive"
    link.save()
    with pytest.raises(exceptions.LinkNeedsAttentionError, match="inactive"):
        issue(account)
    assert fake_sf.calls == []


def test_invalid_grant_marks_the_link_as_needing_attention_like_the_health_check(account, fake_sf):
    link = make_linked(account, ApiUserFactory(), refresh_token="dead")
    fake_sf.refresh_invalid.add("dead")
    with pytest.raises(exceptions.LinkNeedsAttentionError, match="revoked"):
        issue(account)
    link.refresh_from_db()
    assert link.needs_attention and link.attention_code == "grant_revoked"
    assert list(LinkEvent.objects.filter(account=account).values_list("action", flat=True)) == ["sf_revoked"]


def test_salesforce_down_is_unavailable_and_keeps_the_grant(account, fake_sf):
    link = make_linked(account, ApiUserFactory(), refresh_token="keep-me")
    fake_sf.fail["refresh"] = exceptions.SalesforceUnavailableError()
    with pytest.raises(exceptions.SalesforceUnavailableError):
        issue(account)
    link.refresh_from_db()
    assert not link.needs_attention
    assert crypto.decrypt(SalesforceToken.objects.get(pk=link.token_id).refresh_token_encrypted) == "keep-me"


def test_a_refresh_held_elsewhere_is_waited_for(account, fake_sf, monkeypatch):
    """The lease is held by another process; its refresh lands in the cache while we wait."""
    link = make_linked(account, ApiUserFactory())
    owner = grants.grant_lease_claim(token_id=link.token_id)
    sleeps = []

    def other_process_caches(seconds):
        sleeps.append(seconds)
        SalesforceToken.objects.filter(pk=link.token_id).update(
            access_token_encrypted=crypto.encrypt("from-the-other-process"),
            access_token_expires_at=timezone.now() + timedelta(hours=1),
        )

    monkeypatch.setattr("crm_admin.services.tokens.time.sleep", other_process_caches)
    assert issue(account).access_token == "from-the-other-process"
    assert fake_sf.calls == [] and len(sleeps) == 1
    grants.grant_lease_release(token_id=link.token_id, owner=owner)


def test_another_account_is_never_served_this_accounts_token(account, fake_sf):
    make_linked(account, ApiUserFactory())
    other = AccountFactory()
    issue(account)
    with pytest.raises(exceptions.NotLinkedError):
        issue(other)
