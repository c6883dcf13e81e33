"""HTTP views of the emulated hosts; each turns a request into a call of the module that owns the logic."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salesforce_emulator import authorization, faults, grants, identity, ids, limits, rest, seed, soql, tokens
from salesforce_emulator.errors import LoginRefused, OAuthError, RedirectError, RestError
from salesforce_emulator.models import AccessToken, AuthorizationRequest, EmulatorFault, FaultKind, Host

View = Callable[..., HttpResponseBase]
LOGIN_FAILED = (
    "Please check your username and password. If you still can't log in, contact your Salesforce administrator."
)
# Scopes that let a token read the identity URL and UserInfo (reference §1: id and its synonyms).
IDENTITY_SCOPES = frozenset({"id", "profile", "email", "address", "phone", "openid", "full"})
# The refusal of a parameter the emulator will not read (limits.py), in each endpoint's own shape; the
# value itself is never stored or echoed.
HOSTILE_PARAMETER = "a request parameter is too long or contains a forbidden character"


def _html_page(view: View) -> View:
    """Mark a page as openable in a popup whose opener keeps its handle on it."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        # The portal opens the login in a popup and watches it; the project's default same-origin COOP
        # would sever that link (SecurityMiddleware only sets its default when the header is absent).
        response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        return response

    return wrapped


def _no_store(view: View) -> View:
    """Reference §4: token responses, success or error, carry ``Cache-Control: no-store``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response

    return wrapped


def _parameters(query: QueryDict) -> Iterator[tuple[str, str]]:
    """Every (name, value) pair of a query or form, repeated names included."""
    return ((name, value) for name, values in query.lists() for value in values)


def _base_url(request: HttpRequest, host: str) -> str:
    """Return the emulated host's root as the client reached it, e.g. ``http://…/_emulator/salesforce/production``."""
    token_url = reverse("salesforce_emulator:token", kwargs={"host": host})
    return request.build_absolute_uri(token_url).removesuffix("/services/oauth2/token")


# --- Authorize: login page, Allow Access page --------------------------------------------------------


@_html_page
@require_GET
def authorize(request: HttpRequest, host: str) -> HttpResponseBase:
    if not limits.all_acceptable(_parameters(request.GET), limits={"nonce": limits.MAX_NONCE_LENGTH}):
        # Neither the client nor the state can be trusted to carry a redirect: the error page.
        return _error_page(request, host, OAuthError("invalid_request", HOSTILE_PARAMETER))
    try:
        client = authorization.verify_client(params=request.GET)
    except OAuthError as error:
        return _error_page(request, host, error)
    if (response := _authorize_fault(client)) is not None:
        return response
    try:
        pending = authorization.begin(host=host, client=client, params=request.GET)
    except RedirectError as error:
        return HttpResponseRedirect(error.location)
    return _login_page(request, pending, username=pending.login_hint)


def _authorize_fault(client: authorization.Client) -> HttpResponseBase | None:
    """Apply an injected authorize fault once the client is known, so a rate limit can use its redirect URI."""
    fault = faults.take("authorize")
    if fault is None:
        return None
    if fault.kind == FaultKind.TIMEOUT:
        faults.wait(fault)
        return None
    if fault.kind == FaultKind.RATE_LIMITED:
        # Reference §2: rate_limit_exceeded, "number of logins exceeded", is an authorize error code.
        return HttpResponseRedirect(client.refuse("rate_limit_exceeded", "number of logins exceeded").location)
    return faults.response(fault)


@_html_page
@require_POST
def login(request: HttpRequest, host: str) -> HttpResponseBase:
    try:
        pending = authorization.log_in(
            host=host,
            request_id=request.POST.get("request", ""),
            username=request.POST.get("username", ""),
            password=request.POST.get("password", ""),
        )
    except LoginRefused as refusal:
        username = request.POST.get("username", "")
        if not limits.acceptable(username, max_length=limits.MAX_USERNAME_LENGTH):
            username = ""
        return _login_page(request, refusal.pending, username=username, error=LOGIN_FAILED)
    except RedirectError as error:
        return HttpResponseRedirect(error.location)
    except OAuthError as error:
        return _error_page(request, host, error)
    return _consent_page(request, pending)


@_html_page
@require_POST
def consent(request: HttpRequest, host: str) -> HttpResponseBase:
    decision = request.POST.get("decision")
    try:
        if decision not in {"allow", "deny"}:
            raise OAuthError("invalid_request", "choose Allow or Deny")
        location = authorization.decide(
            host=host, request_id=request.POST.get("request", ""), allow=decision == "allow"
        )
    except OAuthError as error:
        return _error_page(request, host, error)
    return HttpResponseRedirect(location)


def _login_page(request: HttpRequest, pending: AuthorizationRequest, *, username: str, error: str = "") -> HttpResponse:
    context = {
        "pending": pending,
        "username": username,
        "error": error,
        "demo_users": seed.demo_users(pending.host) if settings.DEBUG else [],
        "demo_password": seed.DEMO_PASSWORD,
    }
    return _render(request, "salesforce_emulator/login.html", pending.host, context, pending)


def _consent_page(request: HttpRequest, pending: AuthorizationRequest) -> HttpResponse:
    context = {"pending": pending, "scopes": authorization.scope_descriptions(pending.scopes)}
    return _render(request, "salesforce_emulator/consent.html", pending.host, context, pending)


def _error_page(request: HttpRequest, host: str, error: OAuthError) -> HttpResponse:
    return _render(request, "salesforce_emulator/error.html", host, {"error": error}, status=400)


def _render(
    request: HttpRequest,
    template: str,
    host: str,
    context: dict[str, Any],
    pending: AuthorizationRequest | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {**context, "host_label": Host(host).label, "display": pending.display if pending else "page"}
    response = render(request, template, context, status=status)
    if pending is not None:
        # These forms end in a redirect to the client's callback, another origin; CSP form-action also
        # governs redirects after a form submission, so the callback's origin joins the page's policy
        # (django-csp reads the same attribute its csp_update decorator sets).
        callback = urlsplit(pending.redirect_uri)
        response._csp_update = {"form-action": [f"{callback.scheme}://{callback.netloc}"]}
    return response


# --- Token, revoke ---------------------------------------------------------------------------------


@csrf_exempt
@_no_store
@require_POST
@faults.point("token")
def token(request: HttpRequest, host: str) -> HttpResponseBase:
    return _oauth_json(request, host, grants.grant)


@csrf_exempt
@_no_store
@require_http_methods(["GET", "POST"])
@faults.point("revoke")
def revoke(request: HttpRequest, host: str) -> HttpResponseBase:
    """Reference §6: 200 with an empty body, or 400 naming why; GET ``?token=`` works too."""
    params = request.POST if request.method == "POST" else request.GET
    if not limits.all_acceptable(_parameters(params)):
        return JsonResponse(OAuthError("invalid_request", HOSTILE_PARAMETER).as_dict(), status=400)
    raw = params.get("token", "")
    if not raw:
        return JsonResponse(OAuthError("unsupported_token_type", "unsupported token type").as_dict(), status=400)
    if not tokens.revoke(raw, host=host):
        return JsonResponse(OAuthError("invalid_token", "invalid token").as_dict(), status=400)
    return HttpResponse(status=200)


@csrf_exempt
@_no_store
@require_POST
@faults.point("introspect")
def introspect(request: HttpRequest, host: str) -> HttpResponseBase:
    """Token introspection: ``active`` and, for a live access token, its ``exp`` (seconds)."""
    return _oauth_json(request, host, grants.introspect)


def _oauth_json(request: HttpRequest, host: str, handler: Callable[..., dict[str, Any]]) -> HttpResponseBase:
    """Answer a POST endpoint of the token family: refuse hostile input, then the handler's JSON or its
    OAuth error (400 ``{"error", "error_description"}``, reference §4)."""
    if not limits.all_acceptable(_parameters(request.POST)):
        return JsonResponse(OAuthError("invalid_request", HOSTILE_PARAMETER).as_dict(), status=400)
    try:
        body = handler(
            host=host,
            base_url=_base_url(request, host),
            params=request.POST,
            authorization=request.headers.get("Authorization"),
        )
    except OAuthError as error:
        return JsonResponse(error.as_dict(), status=400)
    return JsonResponse(body)


# --- Identity URL, UserInfo -------------------------------------------------------------------------


def _identity_token(request: HttpRequest, host: str) -> AccessToken | None:
    token = tokens.authenticate(
        request.headers.get("Authorization"), host=host, fallback=request.GET.get("oauth_token")
    )
    if token is None or not token.scope_set & IDENTITY_SCOPES:
        return None
    return token


def _bad_oauth_token() -> HttpResponse:
    """Reference §7: a bad token gets 403 with the plain-text body ``Bad_OAuth_Token``."""
    return HttpResponse("Bad_OAuth_Token", status=403, content_type="text/plain; charset=utf-8")


@require_GET
@faults.point("identity")
def identity_url(request: HttpRequest, host: str, org_id: str, user_id: str) -> HttpResponseBase:
    """Answer for the token's own user only; another user's id in the path gets 403 like a bad token.

    Reading another user's identity needs the api scope and sharing access in Salesforce (reference §7);
    the emulator does not model sharing, so it refuses instead of guessing.
    """
    token = _identity_token(request, host)
    if token is None or not (ids.same_id(org_id, token.user.organization_id) and ids.same_id(user_id, token.user.id)):
        return _bad_oauth_token()
    version = identity.resolve_version(request.GET.get("version"))
    return JsonResponse(
        identity.identity(token.user, base_url=_base_url(request, host), version=version, now=timezone.now())
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
@faults.point("userinfo")
def userinfo(request: HttpRequest, host: str) -> HttpResponseBase:
    token = _identity_token(request, host)
    if token is None:
        return _bad_oauth_token()
    version = identity.resolve_version(request.GET.get("version"))
    return JsonResponse(
        identity.userinfo(token.user, base_url=_base_url(request, host), version=version, now=timezone.now())
    )


# --- REST API: versions, resources, the query, and every other path --------------------------------


def _rest_error(error: RestError) -> JsonResponse:
    return JsonResponse(error.as_list(), status=error.status, safe=False)


def _rest(*, methods: frozenset[str] = frozenset({"GET", "HEAD"})) -> Callable[[View], View]:
    """Serve a REST resource as Salesforce does: JSON errors only, the URI bounded, token auth (no CSRF)."""

    def decorator(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if len(request.get_full_path().encode()) > limits.MAX_REST_URI_BYTES:
                return _rest_error(rest.uri_too_long())
            if request.method not in methods:
                return _rest_error(rest.method_not_allowed(request.method or ""))
            try:
                return view(request, *args, **kwargs)
            except RestError as error:
                return _rest_error(error)

        return wrapped

    return decorator


@_rest()
def rest_versions(request: HttpRequest, host: str) -> HttpResponseBase:
    """``GET /services/data/``: every version, no authentication needed."""
    return JsonResponse(rest.versions(), safe=False)


@_rest()
def rest_resources(request: HttpRequest, host: str, version: str) -> HttpResponseBase:
    """``GET /services/data/vNN.N/``: the version's resources, for a live REST session."""
    rest.check_version(version)
    token = rest.require_session(tokens.authenticate(request.headers.get("Authorization"), host=host))
    identity_url = identity.identity_url(_base_url(request, host), token.user)
    return JsonResponse(rest.resources(version, identity_url=identity_url))


@_rest()
@faults.point("query")
def query(request: HttpRequest, host: str, version: str) -> HttpResponseBase:
    rest.check_version(version)
    token = tokens.authenticate(request.headers.get("Authorization"), host=host)
    return JsonResponse(soql.execute(token, query=request.GET.get("q", ""), version=version))


@_rest(methods=frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}))
def rest_not_found(request: HttpRequest, host: str, path: str = "") -> HttpResponseBase:
    """Any other path below ``services/``: Salesforce's JSON ``NOT_FOUND``, never an HTML page."""
    raise rest.not_found()


# --- Fault control (tests and manual trials) ----------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def fault_control(request: HttpRequest) -> HttpResponseBase:
    """List (GET), inject (POST endpoint, kind[, times, delay]) or clear (DELETE, or POST action=clear)."""
    if request.method == "GET":
        return JsonResponse({"faults": [_fault_json(fault) for fault in faults.live()]})
    data = _control_data(request)
    if request.method == "DELETE" or data.get("action") == "clear":
        faults.clear()
        return JsonResponse({"faults": []})
    try:
        fault = faults.inject(
            str(data.get("endpoint", "")),
            str(data.get("kind", "")),
            times=int(data.get("times") or 1),
            delay=float(data["delay"]) if data.get("delay") not in (None, "") else None,
        )
    except OverflowError:
        return JsonResponse({"error": f"times must be between 1 and {faults.MAX_TIMES}."}, status=400)
    except (TypeError, ValueError) as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(_fault_json(fault), status=201)


def _control_data(request: HttpRequest) -> QueryDict | dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST


def _fault_json(fault: EmulatorFault) -> dict[str, Any]:
    return {
        "id": fault.pk,
        "endpoint": fault.endpoint,
        "kind": fault.kind,
        "remaining": fault.remaining,
        "delay": fault.delay,
    }
