"""The copied columns that make the support console one indexed scan of ``SalesforceLink``.

``org_id``, ``api_user_link_count``, ``linked_by_username`` and ``search_text`` repeat facts kept
elsewhere (the API user, the account, the user who linked). Every service that changes one of those
facts calls these helpers in the same transaction, so the copies never drift.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, OuterRef, Subquery

from crm_admin.models import Account, LinkStatus, SalesforceLink


def link_search_text(*, account: Account, link: SalesforceLink) -> str:
    """What the console's free-text search matches: slug, name and usernames, lower-case."""
    parts = (account.slug, account.name, link.api_username, link.legacy_username)
    return " ".join(part.lower() for part in parts if part)


def api_user_link_counts_refresh(*, api_user_ids: Iterable[int | None]) -> None:
    """Store on each of these API users' links how many Linked links the user now holds ("n of 5").

    One statement for any number of API users. Call with the API user's row locked (the five-accounts
    lock), after the change is saved.
    """
    ids = {pk for pk in api_user_ids if pk is not None}
    if not ids:
        return
    linked = (
        SalesforceLink.objects.filter(api_user_id=OuterRef("api_user_id"), status=LinkStatus.LINKED)
        .order_by()
        .values("api_user_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    SalesforceLink.objects.filter(api_user_id__in=ids).update(api_user_link_count=Subquery(linked))
