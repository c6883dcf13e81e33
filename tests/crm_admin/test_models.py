"""The database's backstop: every constraint of the link model refuses its violation (checklist G3)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm_admin.models import LinkStatus, SalesforceApiUser, SalesforceLink
from tests.factories import ApiUserFactory, make_linked, salesforce_id

pytestmark = pytest.mark.django_db


def violates(link: SalesforceLink, constraint: str | None = None) -> None:
    """Assert that saving the link fails in the database (naming the check constraint, when given)."""
    with pytest.raises(IntegrityError) as failure, transaction.atomic():
        link.save()
    if constraint:
        assert constraint in str(failure.value)


@pytest.fixture
def linked(account) -> SalesforceLink:
    return make_linked(account, ApiUserFactory())


def test_a_complete_linked_row_is_accepted(linked):
    linked.refresh_from_db()
    assert linked.status == LinkStatus.LINKED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_user", None),
        ("token", None),
        ("link_key", None),
        ("slot", None),
        ("linked_at", None),
        ("org_type", ""),
        ("instance_url", ""),
    ],
)
def test_linked_without_what_makes_it_work_is_refused(linked, field, value):
    setattr(linked, field, value)
    violates(linked, "link_linked_is_complete")


@pytest.mark.parametrize("status", [LinkStatus.UNLINKED, LinkStatus.LEGACY])
def test_a_link_that_is_not_linked_holding_an_api_user_is_refused(account, status):
    link = account.salesforce_link
    link.status = status
    link.legacy_username = "old@acme.example" if status == LinkStatus.LEGACY else ""
    link.api_user = ApiUserFactory()
    violates(link, "link_not_linked_holds_nothing")


@pytest.mark.parametrize("field", ["token", "link_key", "slot"])
def test_a_legacy_link_holding_a_grant_is_refused(linked, field):
    legacy = SalesforceLink.objects.get(pk=linked.pk)
    for name in ("api_user", "token", "link_key", "slot"):
        if name != field:
            setattr(legacy, name, None)
    legacy.status = LinkStatus.LEGACY
    legacy.legacy_username = "old@acme.example"
    violates(legacy, "link_not_linked_holds_nothing")


def test_legacy_without_legacy_username_is_refused(account):
    link = account.salesforce_link
    link.status = LinkStatus.LEGACY
    link.legacy_username = ""
    violates(link, "link_legacy_has_username")


@pytest.mark.parametrize("field", ["legacy_username", "api_username"])
def test_unlinked_holding_a_username_is_refused(account, field):
    link = account.salesforce_link
    setattr(link, field, "someone@acme.example")
    violates(link, "link_unlinked_is_empty")


@pytest.mark.parametrize("slot", [0, 6])
def test_slot_outside_one_to_five_is_refused(linked, slot):
    linked.slot = slot
    violates(linked, "link_slot_in_range")


@pytest.mark.parametrize("slot", [1, 5])
def test_slots_one_and_five_are_accepted(linked, slot):
    linked.slot = slot
    linked.save()


def test_two_links_of_one_api_user_cannot_share_a_slot(account, other_account):
    api_user = ApiUserFactory()
    make_linked(account, api_user, slot=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_linked(other_account, api_user, slot=3)
    assert SalesforceLink.objects.filter(api_user=api_user).count() == 1


def test_the_same_slot_of_different_api_users_is_fine(account, other_account):
    make_linked(account, ApiUserFactory(), slot=1)
    make_linked(other_account, ApiUserFactory(), slot=1)


def test_an_account_has_at_most_one_link(account):
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesforceLink.objects.create(account=account)
    assert SalesforceLink.objects.filter(account=account).count() == 1


def test_api_user_identity_is_unique():
    first = ApiUserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesforceApiUser.objects.create(org_id=first.org_id, user_id=first.user_id, username="other@acme.example")
    assert SalesforceApiUser.objects.count() == 1


def test_same_user_id_in_another_org_is_a_different_api_user():
    first = ApiUserFactory()
    SalesforceApiUser.objects.create(org_id=salesforce_id("00D", 999), user_id=first.user_id, username="x@y.example")


VALID_ORG = salesforce_id("00D", 7)
VALID_USER = salesforce_id("005", 7)


def bad_checksum(id18: str) -> str:
    return id18[:15] + ("B" if id18[15] != "B" else "C") + id18[16:]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("org_id", VALID_ORG[:15]),  # the 15-character form is not stored
        ("org_id", bad_checksum(VALID_ORG)),
        ("org_id", VALID_USER),  # a user id where an org id belongs
        ("org_id", VALID_ORG[:15] + VALID_ORG[15:].lower()),  # not canonical
        ("org_id", "00D!" + VALID_ORG[4:]),
        ("user_id", VALID_USER[:15]),
        ("user_id", bad_checksum(VALID_USER)),
        ("user_id", VALID_ORG),
        ("user_id", ""),
    ],
)
def test_api_user_validators_reject_bad_ids(field, value):
    api_user = SalesforceApiUser(org_id=VALID_ORG, user_id=VALID_USER, username="api@acme.example")
    api_user.full_clean()
    setattr(api_user, field, value)
    with pytest.raises(ValidationError) as failure:
        api_user.full_clean()
    assert field in failure.value.message_dict
