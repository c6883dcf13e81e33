"""Reads for the status API, with the same access rules as the portal's pages.

A service key with the ``read`` scope sees every account, like support staff. A person sees what their
pages show: support every account; an account admin their own accounts only, a foreign account
answering 404 exactly like a missing one (checklist D1); the directory and the API-user view are for
those who see every account (403 for the others).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from api.models import ApiKey, ApiScope
from crm_admin import selectors as crm_selectors
from crm_admin.models import Account, SalesforceApiUser, SalesforceLink

Caller = ApiKey | AbstractBaseUser

NOT_CRM_ADMIN = "Your portal role does not include CRM Admin."
NOT_EVERY_ACCOUNT = "Only support staff and service keys see every account's link."


def caller_sees_every_account(*, caller: Caller) -> bool:
    if isinstance(caller, ApiKey):
        return caller.has_scope(ApiScope.READ)
    return crm_selectors.user_can_open_crm_admin(user=caller) and caller.has_perm(crm_selectors.VIEW_ALL_ACCOUNTS)


def directory_access_check(*, caller: Caller) -> None:
    """Raise PermissionDenied unless the caller may list every account's link."""
    if not caller_sees_every_account(caller=caller):
        raise PermissionDenied(NOT_EVERY_ACCOUNT)


def account_with_link(*, caller: Caller, slug: str) -> tuple[Account, SalesforceLink]:
    """Return the account and its link, in one query; raise Http404 for an account the caller may not see.

    An account without a link row reads as Unlinked (nothing is written on a read).
    """
    if caller_sees_every_account(caller=caller):
        accounts = Account.objects.all()
    elif isinstance(caller, ApiKey) or not crm_selectors.user_can_open_crm_admin(user=caller):
        raise PermissionDenied(NOT_CRM_ADMIN)
    else:
        accounts = crm_selectors.accounts_for_user(user=caller)
    account = accounts.select_related("salesforce_link__api_user").filter(slug=slug).first()
    if account is None:
        raise Http404("No such account.")
    try:
        link = account.salesforce_link
    except SalesforceLink.DoesNotExist:
        link = SalesforceLink(account=account)
    return account, link


@dataclass(frozen=True)
class ApiUserAccounts:
    api_user: SalesforceApiUser
    links: list[SalesforceLink]


def api_user_accounts(*, org_id: str, user_id: str) -> ApiUserAccounts:
    """Return an API user (18-character ids) and the links it holds, by slot; raise Http404 if unknown."""
    api_user = SalesforceApiUser.objects.filter(org_id=org_id, user_id=user_id).first()
    if api_user is None:
        raise Http404("No such API user.")
    links = list(api_user.links.select_related("account").order_by("slot", "id"))
    return ApiUserAccounts(api_user=api_user, links=links)
