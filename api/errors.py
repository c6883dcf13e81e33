"""Every error the API answers is JSON with a ``detail`` message, never an HTML page.

django-ninja's handlers are replaced so that messages are written for people, 401s say how to
authenticate (``WWW-Authenticate``, RFC 6750 §3), and an unexpected exception is logged and answered
as a JSON 500 rather than Django's HTML page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api.auth import REALM, InsufficientScope, InvalidKey

logger = logging.getLogger(__name__)

NOT_AUTHENTICATED = "Authentication required: send 'Authorization: Bearer <API key>', or log in to the portal."
NOT_FOUND = "Not found."


def error_response(status: int, detail: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if isinstance(exc, InvalidKey):
        response = error_response(401, exc.message)
        response["WWW-Authenticate"] = f'Bearer realm="{REALM}", error="invalid_token"'
    else:
        response = error_response(401, NOT_AUTHENTICATED)
        response["WWW-Authenticate"] = f'Bearer realm="{REALM}"'
    return response


def _insufficient_scope(request: HttpRequest, exc: InsufficientScope) -> HttpResponse:
    response = error_response(403, exc.message)
    response["WWW-Authenticate"] = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{exc.scope}"'
    return response


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(exc.status_code, exc.message)


def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, str(exc) or "You may not see this.")


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, str(exc) or NOT_FOUND)


def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"location": ".".join(str(part) for part in error["loc"]), "message": str(error["msg"])} for error in exc.errors
    ]
    summary = "; ".join(f"{error['location']}: {error['message']}" for error in errors)
    return error_response(422, f"Invalid request: {summary}.", errors=errors)


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unexpected error in %s %s", request.method, request.path)
    return error_response(500, "Internal server error.")


def install_handlers(api: NinjaAPI) -> None:
    """Replace django-ninja's default exception handlers with the ones above."""
    api.add_exception_handler(Exception, _unexpected)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(AuthenticationError, _unauthenticated)
    api.add_exception_handler(InsufficientScope, _insufficient_scope)
    api.add_exception_handler(PermissionDenied, _forbidden)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(ValidationError, _invalid)


def json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer what django-ninja answers outside its handlers in JSON: 405 (plain text) and 404 at the root."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return unknown_path(request)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = error_response(405, f"Method {request.method} is not allowed here; use {allowed}.")
            response["Allow"] = allowed
        return response

    return wrapped


@csrf_exempt
def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Answer any other path under the API with a JSON 404 (CSRF-exempt: a POST meets no HTML 403 first)."""
    docs = reverse("api-v1:openapi-view")
    return error_response(404, f"No API endpoint at {request.path}. The endpoints are listed at {docs}.")
