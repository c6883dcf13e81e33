"""Thin views: parse the request, call a selector or service, render. Rules live in services."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_admin import directory, selectors
from crm_admin.exceptions import AttemptInvalidError, LinkError
from crm_admin.forms import LinkStartForm
from crm_admin.models import MAX_ACCOUNTS_PER_API_USER, Account, AuthorizationOutcome, PendingAuthorization
from crm_admin.services import links as link_services

open_crm_admin_required = permission_required(selectors.OPEN_CRM_ADMIN, raise_exception=True)
manage_link_required = permission_required(selectors.MANAGE_LINK, raise_exception=True)


def opener_policy(value: str) -> Callable:
    """Set Cross-Origin-Opener-Policy for one view (checklist B1); SecurityMiddleware keeps it."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response["Cross-Origin-Opener-Policy"] = value
            return response

        return wrapped

    return decorator


#: How many accounts the home page lists for a user who belongs to several.
HOME_LIST_SIZE = 200

#: The CRM Admin page keeps its reference to the Salesforce popup.
opener_page = opener_policy("same-origin-allow-popups")
#: Pages shown inside the popup opt out of isolation so the opener keeps its reference to them.
popup_page = opener_policy("unsafe-none")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Support: counts by status linking into the console. Others: their one account, or a list of theirs."""
    if request.user.has_perm(selectors.VIEW_ALL_ACCOUNTS):
        context = {"summary": directory.links_summary(), "refresh_seconds": directory.SUMMARY_CACHE_SECONDS}
        return render(request, "support/summary.html", context)
    mine = selectors.accounts_for_user(user=request.user)
    # One query for the usual case: up to a page of accounts, and one more to know whether there are more.
    accounts = list(mine.select_related("salesforce_link")[: HOME_LIST_SIZE + 1])
    if len(accounts) == 1:
        return redirect("crm_admin:page", slug=accounts[0].slug)
    total = len(accounts) if len(accounts) <= HOME_LIST_SIZE else mine.count()
    return render(request, "crm_admin/home.html", {"accounts": accounts[:HOME_LIST_SIZE], "total": total})


@login_required
@open_crm_admin_required
@require_GET
def crm_admin_shortcut(request: HttpRequest) -> HttpResponse:
    """Business Apps → CRM Admin: the user's account, or a chooser (for support, the console)."""
    if request.user.has_perm(selectors.VIEW_ALL_ACCOUNTS):
        return redirect("support:links")
    return home(request)


def _credentials_context(request: HttpRequest, account: Account) -> dict[str, Any]:
    link = selectors.link_for_account(account=account)
    return {
        "account": account,
        "link": link,
        "can_manage": selectors.account_managed_by(user=request.user, account=account),
        # Kept by the services on every link of the API user (crm_admin.services.listing).
        "slots_used": link.api_user_link_count,
        "slots_max": MAX_ACCOUNTS_PER_API_USER,
        "link_form": LinkStartForm(),
        "events": selectors.link_events_for_account(account=account),
    }


@login_required
@open_crm_admin_required
@require_GET
@opener_page
def crm_admin_page(request: HttpRequest, slug: str) -> HttpResponse:
    account = selectors.account_for_user(user=request.user, slug=slug)
    context = _credentials_context(request, account)
    context["current_account"] = account
    return render(request, "crm_admin/crm_admin.html", context)


@login_required
@manage_link_required
@require_POST
@never_cache
@popup_page
@sensitive_variables("start")
def link_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Link/Relink → Production or Sandbox: record the attempt and send this window to Salesforce."""
    account = selectors.account_for_manager(user=request.user, slug=slug)
    form = LinkStartForm(request.POST)
    in_popup = request.POST.get("display") == "popup"
    if not form.is_valid():
        return _link_start_refused(request, slug, "Choose Production or Sandbox to link.", in_popup)
    try:
        start = link_services.link_start(
            user=request.user,
            account=account,
            org_type=form.cleaned_data["org_type"],
            session_key=request.session.session_key or "",
            login_hint=form.cleaned_data["login_hint"],
            in_popup=in_popup,
            client_ref=form.cleaned_data["client_ref"],
        )
    except LinkError as error:
        return _link_start_refused(request, slug, error.user_message, in_popup)
    if start.authorize_url:
        return HttpResponseRedirect(start.authorize_url)
    return _attempt_finished_redirect(request, start.attempt)


def _link_start_refused(request: HttpRequest, slug: str, message: str, in_popup: bool) -> HttpResponse:
    """Say why no attempt was started: inside the popup, or back on the CRM Admin page."""
    if in_popup:
        return render(request, "crm_admin/callback_error.html", {"message": message}, status=400)
    messages.error(request, message)
    return HttpResponseRedirect(reverse("crm_admin:page", kwargs={"slug": slug}), status=303)


def _attempt_finished_redirect(request: HttpRequest, attempt: PendingAuthorization) -> HttpResponse:
    """Where the browser goes once an attempt has an outcome: the popup's done page, or back in the tab."""
    if attempt.in_popup:
        return redirect("crm_admin:attempt_done", slug=attempt.account.slug, attempt_id=attempt.pk)
    if attempt.outcome == AuthorizationOutcome.LINKED:
        messages.success(request, attempt.message)
    else:
        messages.error(request, attempt.message)
    return redirect("crm_admin:page", slug=attempt.account.slug)


@require_GET
@never_cache
@popup_page
@sensitive_variables("code", "state")
def salesforce_callback(request: HttpRequest) -> HttpResponse:
    """The OAuth redirect URI. Answers with a redirect to a clean URL, so the code leaves history."""
    state = request.GET.get("state", "")
    code = request.GET.get("code", "")
    error = request.GET.get("error", "")
    try:
        attempt = link_services.authorization_consume(
            state=state, user=request.user, session_key=request.session.session_key or ""
        )
    except AttemptInvalidError as failure:
        response = render(request, "crm_admin/callback_error.html", {"message": failure.user_message}, status=400)
        response["Referrer-Policy"] = "no-referrer"
        return response
    if error or not code:
        link_services.authorization_fail(attempt=attempt, error=error or "invalid_request")
    else:
        with contextlib.suppress(LinkError):  # the attempt records the outcome and its message
            link_services.link_complete(attempt=attempt, code=code)
    attempt.refresh_from_db()
    response = _attempt_finished_redirect(request, attempt)
    response["Referrer-Policy"] = "no-referrer"  # checklist A11
    return response


@login_required
@open_crm_admin_required
@require_GET
@never_cache
@popup_page
def attempt_done(request: HttpRequest, slug: str, attempt_id: str) -> HttpResponse:
    """The popup's last page: tells its opener the outcome, then closes (static/js/popup_done.js)."""
    account = selectors.account_for_user(user=request.user, slug=slug)
    attempt = selectors.authorization_for_user(user=request.user, account=account, attempt_id=attempt_id)
    return render(request, "crm_admin/attempt_done.html", {"attempt": attempt, "account": account})


def _attempt_payload(request: HttpRequest, attempt: PendingAuthorization) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "flow_id": str(attempt.client_ref or attempt.pk),
        "status": attempt.outcome,
        "final": attempt.is_final,
        "message": attempt.message,
    }
    if attempt.is_final:
        context = _credentials_context(request, attempt.account)
        payload["credentials_html"] = render_to_string("crm_admin/_credentials.html", context, request=request)
        payload["activity_html"] = render_to_string("crm_admin/_activity.html", context, request=request)
    return payload


def _attempt_by_ref(request: HttpRequest, slug: str, ref: str) -> PendingAuthorization:
    account = selectors.account_for_user(user=request.user, slug=slug)
    return selectors.authorization_by_ref(user=request.user, account=account, client_ref=ref)


@login_required
@open_crm_admin_required
@require_GET
@never_cache
def attempt_status(request: HttpRequest, slug: str) -> JsonResponse:
    """The opener's source of truth (checklist B2): this attempt's outcome, for its owner only."""
    attempt = _attempt_by_ref(request, slug, request.GET.get("ref", ""))
    return JsonResponse(_attempt_payload(request, attempt))


@login_required
@manage_link_required
@require_POST
@never_cache
def attempt_abandon(request: HttpRequest, slug: str) -> JsonResponse:
    """The popup closed before finishing: mark the attempt cancelled (unless it has moved on)."""
    attempt = _attempt_by_ref(request, slug, request.POST.get("ref", ""))
    attempt = link_services.attempt_abandon(attempt=attempt)
    return JsonResponse(_attempt_payload(request, attempt))


@login_required
@manage_link_required
@require_http_methods(["GET", "POST"])
@opener_page
def unlink(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the confirmation page (without JavaScript); POST: unlink."""
    account = selectors.account_for_manager(user=request.user, slug=slug)
    if request.method == "GET":
        link = selectors.link_for_account(account=account)
        return render(
            request,
            "crm_admin/unlink_confirm.html",
            {"account": account, "current_account": account, "link": link},
        )
    try:
        result = link_services.link_unlink(user=request.user, account=account)
    except LinkError as error:
        messages.error(request, error.user_message)
    else:
        if result.revoked:
            messages.success(request, "Unlinked. VCC no longer has access to Salesforce.")
        else:
            messages.warning(
                request,
                "Unlinked in VCC, but Salesforce could not be reached to revoke VCC's access there. "
                "The revocation is queued and will be retried until Salesforce confirms it.",
            )
    return HttpResponseRedirect(reverse("crm_admin:page", kwargs={"slug": slug}), status=303)
