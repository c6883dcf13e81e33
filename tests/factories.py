"""factory_boy factories for the portal's models."""

from __future__ import annotations

import secrets

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm_admin import crypto
from crm_admin.models import (
    Account,
    LinkStatus,
    OrgType,
    SalesforceApiUser,
    SalesforceLink,
    SalesforceToken,
)
from crm_admin.salesforce import ids
from crm_admin.services.accounts import roles_ensure
from crm_admin.services.listing import api_user_link_counts_refresh, link_search_text

PASSWORD = "Test-Pass-1234"


def salesforce_id(prefix: str, n: int) -> str:
    """A valid 18-character Salesforce id with the given key prefix."""
    return ids.to_18(f"{prefix}{n:012d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs) -> None:
        if create and extracted:
            self.groups.add(roles_ensure()[extracted])


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"account-{n}")
    name = factory.Sequence(lambda n: f"Account {n}")
    link = factory.RelatedFactory("tests.factories.SalesforceLinkFactory", factory_related_name="account")

    @factory.post_generation
    def members(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.members.add(*extracted)


class SalesforceLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesforceLink
        django_get_or_create = ("account",)

    status = LinkStatus.UNLINKED
    search_text = factory.LazyAttribute(lambda o: link_search_text(account=o.account, link=SalesforceLink()))


class ApiUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesforceApiUser

    org_id = factory.Sequence(lambda n: salesforce_id("00D", n + 1))
    user_id = factory.Sequence(lambda n: salesforce_id("005", n + 1))
    username = factory.Sequence(lambda n: f"api{n}@example.com")


def make_linked(
    account: Account,
    api_user: SalesforceApiUser,
    *,
    slot: int | None = None,
    refresh_token: str | None = None,
) -> SalesforceLink:
    """Put an account into the Linked state directly (fixtures only; the product links through services)."""
    token = SalesforceToken.objects.create(
        refresh_token_encrypted=crypto.encrypt(refresh_token or secrets.token_urlsafe(24)),
        scope="api refresh_token id",
        issued_at=timezone.now(),
    )
    used = set(SalesforceLink.objects.filter(api_user=api_user).values_list("slot", flat=True))
    link = account.salesforce_link
    link.status = LinkStatus.LINKED
    link.org_type = OrgType.PRODUCTION
    link.api_user = api_user
    link.slot = slot or min(set(range(1, 6)) - used)
    link.api_username = api_user.username
    link.instance_url = "https://acme.my.salesforce.com"
    link.link_key = secrets.token_hex(32)
    link.token = token
    link.linked_at = timezone.now()
    link.org_id = api_user.org_id
    link.search_text = link_search_text(account=account, link=link)
    link.save()
    api_user_link_counts_refresh(api_user_ids=[api_user.pk])
    link.refresh_from_db()
    return link
