"""The support console: thin, read-only views over ``crm_admin.directory`` and ``support.selectors``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from crm_admin import directory
from crm_admin.keyset import InvalidCursor
from crm_admin.models import MAX_ACCOUNTS_PER_API_USER
from crm_admin.selectors import VIEW_ALL_ACCOUNTS
from support import console, selectors
from support.export import export_lines
from support.forms import ConsoleForm

READ_METHODS = ("GET", "HEAD")
STALE_LINK = "This page link is out of date or was edited. Start again from the first page."


def support_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let support staff read; anyone else gets 403, anonymous users the login page.

    The console is read-only: every other method is refused with 403 (not 405), even for support, so
    that a write is denied the same way whoever sends it.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(VIEW_ALL_ACCOUNTS) or request.method not in READ_METHODS:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _bad_request(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, context, status=400)


@support_only
def links(request: HttpRequest) -> HttpResponse:
    """Show every account's link: filters, search, sort by any column, keyset pages."""
    base = reverse("support:links")
    form = ConsoleForm(request.GET)
    context: dict[str, Any] = {"form": form, "base_url": base}
    if not form.is_valid():
        return _bad_request(request, "support/links.html", context)
    query = form.to_query(cursor=request.GET.get("cursor", ""))
    if set(request.GET) != set(console.query_params(query)):
        # The filter form sends every field, empty or default; a short URL is the one worth sharing.
        return redirect(console.url_for(base, query))
    try:
        result = directory.links_page(query)
    except InvalidCursor:
        return _bad_request(request, "support/links.html", {**context, "stale_link": STALE_LINK})
    context.update(
        query=query,
        result=result,
        rows=console.rows(result.rows),
        headers=console.headers(base, query),
        page_links=console.page_links(result.page, lambda cursor: console.url_for(base, query, cursor=cursor)),
        export_url=console.url_for(reverse("support:links_export"), query, cursor="", size=""),
        sorted_by=console.SORT_LABELS[query.sort],
        slots_max=MAX_ACCOUNTS_PER_API_USER,
    )
    return render(request, "support/links.html", context)


@support_only
@never_cache
def links_export(request: HttpRequest) -> HttpResponse:
    """Stream the filtered table as CSV, in the table's order, a chunk of rows at a time."""
    form = ConsoleForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, "support/links.html", {"form": form, "base_url": reverse("support:links")})
    response = StreamingHttpResponse(export_lines(form.to_query()), content_type="text/csv; charset=utf-8")
    filename = f"salesforce-links-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@support_only
def account(request: HttpRequest, slug: str) -> HttpResponse:
    """Show one account's link in full and its whole history, newest first, a keyset page at a time."""
    link = selectors.link_by_slug(slug=slug)
    base = reverse("support:account", args=[link.account.slug])
    context: dict[str, Any] = {"link": link, "account": link.account, "slots_max": MAX_ACCOUNTS_PER_API_USER}
    try:
        events = selectors.account_history(account=link.account, cursor=request.GET.get("cursor", ""))
    except InvalidCursor:
        return _bad_request(request, "support/account.html", {**context, "stale_link": STALE_LINK, "base_url": base})
    context.update(
        events=events,
        event_count=selectors.account_event_count(account=link.account),
        page_links=console.page_links(events, lambda cursor: f"{base}?cursor={cursor}" if cursor else base),
    )
    return render(request, "support/account.html", context)


@support_only
def api_user(request: HttpRequest, org_id: str, user_id: str) -> HttpResponse:
    """Show one Salesforce API user: the (up to five) accounts it serves and which slot each holds."""
    salesforce_user = selectors.api_user_by_ids(org_id=org_id, user_id=user_id)
    slots = selectors.api_user_slots(api_user=salesforce_user)
    context = {
        "api_user": salesforce_user,
        "slots": slots,
        "slots_used": sum(1 for slot in slots if slot.link is not None),
        "slots_max": MAX_ACCOUNTS_PER_API_USER,
    }
    return render(request, "support/api_user.html", context)
