from __future__ import annotations

import pytest

from crm_admin import crypto, exceptions
from crm_admin.models import LinkEvent, LinkStatus, PendingRevoke, SalesforceLink, SalesforceToken
from crm_admin.services import links as link_services
from crm_admin.services.revokes import pending_revokes_retry
from tests.factories import ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def test_unlink_revokes_deletes_the_token_and_shows_unlinked(admin_user, account, fake_sf):
    make_linked(account, ApiUserFactory(), refresh_token="the-refresh")
    result = link_services.link_unlink(user=admin_user, account=account)
    assert result.revoked is True
    assert fake_sf.revoked == ["the-refresh"]
    link = SalesforceLink.objects.get(account=account)
    assert link.status == LinkStatus.UNLINKED
    assert link.api_user is None and link.token is None and link.link_key is None and link.slot is None
    assert not SalesforceToken.objects.exists() and not PendingRevoke.objects.exists()
    event = LinkEvent.objects.get(account=account, action="unlinked")
    assert event.actor == admin_user and event.detail["previous_status"] == "linked"


def test_unlink_with_salesforce_down_unlinks_locally_and_keeps_a_pending_revoke(admin_user, account, fake_sf):
    make_linked(account, ApiUserFactory(), refresh_token="the-refresh")
    fake_sf.fail["revoke"] = exceptions.SalesforceUnavailableError()
    result = link_services.link_unlink(user=admin_user, account=account)
    assert result.revoked is False
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.UNLINKED
    pending = PendingRevoke.objects.get()
    assert pending.reason == "unlink" and pending.attempts == 1 and pending.last_error
    assert crypto.decrypt(pending.token_encrypted) == "the-refresh"
    del fake_sf.fail["revoke"]
    assert pending_revokes_retry() == (1, 0)
    assert fake_sf.revoked == ["the-refresh"]


def test_unlink_legacy_clears_it_without_calling_salesforce(admin_user, account, fake_sf):
    link_services.link_mark_legacy(account=account, legacy_username="old@acme.example")
    assert link_services.link_unlink(user=admin_user, account=account).revoked is True
    link = SalesforceLink.objects.get(account=account)
    assert link.status == LinkStatus.UNLINKED and link.legacy_username == ""
    assert fake_sf.calls == []


def test_unlink_of_an_unlinked_account_is_refused(admin_user, account, fake_sf):
    with pytest.raises(exceptions.NotLinkedError):
        link_services.link_unlink(user=admin_user, account=account)
    assert not LinkEvent.objects.exists()


def test_unlink_frees_the_api_users_slot(admin_user, account, fake_sf):
    api_user = ApiUserFactory()
    make_linked(account, api_user)
    link_services.link_unlink(user=admin_user, account=account)
    assert not SalesforceLink.objects.filter(api_user=api_user).exists()


def test_mark_legacy_refuses_a_linked_account(account, fake_sf):
    make_linked(account, ApiUserFactory())
    with pytest.raises(exceptions.LinkError):
        link_services.link_mark_legacy(account=account, legacy_username="old@acme.example")
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.LINKED
