"""Reads. Every account-scoped read takes the user and answers 404 for an account they may not see
(checklist D1), so a foreign slug looks exactly like a missing one."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from crm_admin.models import (
    Account,
    LinkEvent,
    LinkEventAction,
    LinkStatus,
    PendingAuthorization,
    SalesforceApiUser,
    SalesforceLink,
)

User = AbstractBaseUser | AnonymousUser

OPEN_CRM_ADMIN = "crm_admin.open_crm_admin"
MANAGE_LINK = "crm_admin.manage_salesforce_link"
VIEW_ALL_ACCOUNTS = "crm_admin.view_all_accounts"


def user_can_open_crm_admin(*, user: User) -> bool:
    return bool(user.is_authenticated and user.has_perm(OPEN_CRM_ADMIN))


def user_can_manage_links(*, user: User) -> bool:
    return bool(user.is_authenticated and user.has_perm(MANAGE_LINK))


def accounts_for_user(*, user: User) -> QuerySet[Account]:
    """The accounts whose CRM Admin page the user may open: all for support, their own for admins."""
    if not user_can_open_crm_admin(user=user):
        return Account.objects.none()
    if user.has_perm(VIEW_ALL_ACCOUNTS):
        return Account.objects.all()
    return Account.objects.filter(members=user)


def account_for_user(*, user: User, slug: str) -> Account:
    """Return the account, or raise Http404 when it does not exist or is not the user's."""
    try:
        return accounts_for_user(user=user).get(slug=slug)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def account_for_manager(*, user: User, slug: str) -> Account:
    """The account for a change: only admins who are members; others get 404 (support included)."""
    if not user_can_manage_links(user=user):
        raise Http404("No such account.")
    try:
        return Account.objects.filter(members=user).get(slug=slug)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def link_for_account(*, account: Account) -> SalesforceLink:
    """Return the account's link with what the credentials area shows, creating an Unlinked row if absent."""
    link, _ = SalesforceLink.objects.select_related("api_user", "linked_by").get_or_create(account=account)
    return link


def link_events_for_account(*, account: Account, limit: int = 5) -> list[LinkEvent]:
    """The account's most recent link changes and attempts, newest first (not the access tokens handed out)."""
    return list(
        LinkEvent.objects.filter(account=account)
        .exclude(action=LinkEventAction.TOKEN_ISSUED)
        .select_related("actor")
        .order_by("-created_at", "-pk")[:limit]
    )


def api_user_slots_used(*, api_user: SalesforceApiUser | None) -> int:
    """How many of the API user's five slots are held by Linked links (Legacy links hold no approval)."""
    if api_user is None:
        return 0
    return SalesforceLink.objects.filter(api_user=api_user, status=LinkStatus.LINKED).count()


def api_user_linked_elsewhere_by_username(*, username: str, exclude_account: Account) -> int:
    """The early check before Salesforce: the admin names the API user, we only know a username.

    Salesforce usernames are unique across all orgs, so a username names at most one API user; the
    callback's check by (org id, user id) still decides.
    """
    counts = (
        SalesforceApiUser.objects.filter(username__iexact=username.strip())
        .annotate(
            linked=Count(
                "links",
                filter=Q(links__status=LinkStatus.LINKED) & ~Q(links__account=exclude_account),
            )
        )
        .values_list("linked", flat=True)
    )
    return max(counts, default=0)


def authorization_by_ref(*, user: User, account: Account, client_ref: str) -> PendingAuthorization:
    """An attempt found by the opener page's handle, for its owner only (404 otherwise)."""
    try:
        attempt = (
            PendingAuthorization.objects.select_related("account")
            .filter(client_ref=client_ref, user=user, account=account)
            .order_by("-created_at")
            .first()
        )
    except (ValueError, ValidationError):
        attempt = None
    if attempt is None:
        raise Http404("No such linking attempt.")
    return attempt


def authorization_for_user(*, user: User, account: Account, attempt_id: str) -> PendingAuthorization:
    """An attempt as its owner sees it (checklist B2: 404 for anyone else)."""
    try:
        return PendingAuthorization.objects.get(pk=attempt_id, user=user, account=account)
    except (PendingAuthorization.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such linking attempt.") from None
