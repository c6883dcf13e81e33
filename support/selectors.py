"""Reads for the support console. Support sees every account, so nothing here is scoped to a user; the
views check the role (``support.access``) before calling these.

Every read is a fixed number of indexed queries, whatever the number of accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from crm_admin.keyset import Cursor, Ordering, Page, keyset_page
from crm_admin.models import MAX_ACCOUNTS_PER_API_USER, Account, LinkEvent, SalesforceApiUser, SalesforceLink
from crm_admin.salesforce import ids

#: An account's history, newest first: served by the ``event_account_newest`` index.
HISTORY_ORDERING = Ordering(("created_at", "id"), datetimes=frozenset({"created_at"}))
HISTORY_PAGE_SIZE = 25


def link_by_slug(*, slug: str) -> SalesforceLink:
    """Return the account's link with its account and API user (one query); 404 for an unknown slug.

    An account without a link row is shown as an unsaved Unlinked link: the console never writes.
    """
    try:
        return SalesforceLink.objects.select_related("account", "api_user").get(account__slug=slug)
    except SalesforceLink.DoesNotExist:
        pass
    try:
        account = Account.objects.get(slug=slug)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None
    return SalesforceLink(account=account)


def account_history(*, account: Account, cursor: str, size: int = HISTORY_PAGE_SIZE) -> Page[LinkEvent]:
    """Return one keyset page of the account's link events, newest first; raise ``keyset.InvalidCursor``."""
    events = LinkEvent.objects.filter(account=account).select_related("actor")
    return keyset_page(
        events,
        ordering=HISTORY_ORDERING,
        descending=True,
        cursor=Cursor.decode(cursor, HISTORY_ORDERING),
        size=size,
    )


def account_event_count(*, account: Account) -> int:
    """Count the events of the account's history (an index range count)."""
    return LinkEvent.objects.filter(account=account).count()


def api_user_by_ids(*, org_id: str, user_id: str) -> SalesforceApiUser:
    """Return the API user with this org id and user id (15 or 18 characters, any case); 404 otherwise."""
    try:
        org_id, user_id = ids.canonical(org_id), ids.canonical(user_id)
    except ValueError:
        raise Http404("No such API user.") from None
    try:
        return SalesforceApiUser.objects.get(org_id=org_id, user_id=user_id)
    except SalesforceApiUser.DoesNotExist:
        raise Http404("No such API user.") from None


@dataclass(frozen=True)
class Slot:
    """One of an API user's five approvals, and the link holding it (None when free)."""

    number: int
    link: SalesforceLink | None


def api_user_slots(*, api_user: SalesforceApiUser) -> list[Slot]:
    """Return the API user's five slots in order, each with the account's link that holds it (one query)."""
    links = {
        link.slot: link
        for link in SalesforceLink.objects.filter(api_user=api_user).select_related("account").order_by("slot")
    }
    return [Slot(number=number, link=links.get(number)) for number in range(1, MAX_ACCOUNTS_PER_API_USER + 1)]
