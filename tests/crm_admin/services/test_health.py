from __future__ import annotations

import pytest

from crm_admin import exceptions
from crm_admin.models import LinkEvent, SalesforceLink, SalesforceToken
from crm_admin.services.health import Health, api_user_links_check_task, link_check_health
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def test_healthy_link_stays_as_it_is(account, fake_sf):
    link = make_linked(account, ApiUserFactory(), refresh_token="good")
    assert link_check_health(link_id=link.pk) is Health.OK
    assert not SalesforceLink.objects.get(pk=link.pk).needs_attention
    assert fake_sf.calls == [("refresh", {"token": "good"})]


def test_revoked_link_is_flagged_once_with_an_audit_row(account, fake_sf):
    link = make_linked(account, ApiUserFactory(), refresh_token="dead")
    fake_sf.refresh_invalid.add("dead")
    assert link_check_health(link_id=link.pk) is Health.REVOKED
    assert link_check_health(link_id=link.pk) is Health.REVOKED
    link.refresh_from_db()
    assert link.needs_attention and link.attention_since is not None
    assert LinkEvent.objects.filter(account=account, action="sf_revoked").count() == 1


def test_salesforce_down_is_not_taken_for_a_revocation(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    fake_sf.fail["refresh"] = exceptions.SalesforceUnavailableError()
    assert link_check_health(link_id=link.pk) is Health.UNKNOWN
    assert not SalesforceLink.objects.get(pk=link.pk).needs_attention


def test_undecryptable_token_is_flagged_not_crashed(account, fake_sf):
    link = make_linked(account, ApiUserFactory())
    SalesforceToken.objects.filter(pk=link.token_id).update(refresh_token_encrypted="gAAAAAcorrupt")
    assert link_check_health(link_id=link.pk) is Health.REVOKED
    assert "cannot be decrypted" in SalesforceLink.objects.get(pk=link.pk).attention_reason
    assert fake_sf.calls == []


def test_a_link_relinked_during_the_check_is_not_flagged(account, fake_sf, monkeypatch):
    link = make_linked(account, ApiUserFactory(), refresh_token="old")
    fake_sf.refresh_invalid.add("old")

    def relink_meanwhile(self, **kwargs):
        new = SalesforceToken.objects.create(refresh_token_encrypted="x", issued_at=link.linked_at)
        SalesforceLink.objects.filter(pk=link.pk).update(token=new)
        raise exceptions.SalesforceOAuthError("invalid_grant")

    from crm_admin.salesforce import SalesforceClient

    monkeypatch.setattr(SalesforceClient, "refresh", relink_meanwhile)
    assert link_check_health(link_id=link.pk) is Health.UNKNOWN
    assert not SalesforceLink.objects.get(pk=link.pk).needs_attention


def test_task_checks_every_link_of_the_api_user(fake_sf):
    api_user = ApiUserFactory()
    links = [make_linked(AccountFactory(), api_user, refresh_token=f"t{n}") for n in range(3)]
    make_linked(AccountFactory(), ApiUserFactory(), refresh_token="someone-else")
    fake_sf.refresh_invalid.add("t0")
    result = api_user_links_check_task.enqueue(api_user_id=api_user.pk)
    assert result.return_value == {"revoked": 1, "ok": 2}
    assert [SalesforceLink.objects.get(pk=x.pk).needs_attention for x in links] == [True, False, False]
