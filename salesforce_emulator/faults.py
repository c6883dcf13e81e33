"""Fault injection: make the next calls of an endpoint slow, failing, malformed or refused.

Faults are rows (``EmulatorFault``), so a test can inject one and the dev server or live server thread
that answers the portal will see it. Each matching call consumes one count with a conditional UPDATE, so
concurrent calls never consume the same count twice. The module is part of the emulator app, which is
installed and routed only when ``SALESFORCE_EMULATOR`` is on.

    from salesforce_emulator import faults
    faults.inject("token", "timeout", delay=2)      # the next token call sleeps 2 s, then answers
    faults.inject("query", "rate_limited", times=3) # the next three queries get REQUEST_LIMIT_EXCEEDED
    faults.clear()
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from salesforce_emulator.errors import RestError
from salesforce_emulator.models import EmulatorFault, FaultEndpoint, FaultKind

DEFAULT_TIMEOUT_DELAY = 20.0
# Bounds that keep a fault a test's tool: counts fit the column, and a timeout ends well within an hour.
MAX_TIMES = 10_000
MAX_DELAY = 300.0

# Which kinds each endpoint can suffer: the authorize page is HTML, and only REST-style endpoints have an
# "API disabled" answer.
ALLOWED_KINDS: dict[str, frozenset[str]] = {
    FaultEndpoint.AUTHORIZE: frozenset({FaultKind.TIMEOUT, FaultKind.SERVER_ERROR, FaultKind.RATE_LIMITED}),
    FaultEndpoint.TOKEN: frozenset(FaultKind) - {FaultKind.API_DISABLED},
    FaultEndpoint.REVOKE: frozenset(FaultKind) - {FaultKind.API_DISABLED, FaultKind.BAD_SIGNATURE},
    FaultEndpoint.IDENTITY: frozenset(FaultKind) - {FaultKind.BAD_SIGNATURE},
    FaultEndpoint.USERINFO: frozenset(FaultKind) - {FaultKind.BAD_SIGNATURE},
    FaultEndpoint.QUERY: frozenset(FaultKind) - {FaultKind.BAD_SIGNATURE},
    FaultEndpoint.INTROSPECT: frozenset(FaultKind) - {FaultKind.API_DISABLED, FaultKind.BAD_SIGNATURE},
}
_OAUTH_ENDPOINTS = frozenset({FaultEndpoint.TOKEN, FaultEndpoint.REVOKE, FaultEndpoint.INTROSPECT})


def inject(endpoint: str, kind: str, times: int = 1, delay: float | None = None) -> EmulatorFault:
    """Answer the next ``times`` calls of ``endpoint`` with fault ``kind``; raise ValueError on bad input."""
    if endpoint not in ALLOWED_KINDS:
        raise ValueError(f"Unknown endpoint {endpoint!r}; choose from {', '.join(ALLOWED_KINDS)}.")
    if kind not in ALLOWED_KINDS[endpoint]:
        allowed = ", ".join(sorted(ALLOWED_KINDS[endpoint]))
        raise ValueError(f"Fault {kind!r} does not apply to {endpoint}; choose from {allowed}.")
    if not 1 <= times <= MAX_TIMES:
        raise ValueError(f"times must be between 1 and {MAX_TIMES}.")
    if delay is not None and (kind != FaultKind.TIMEOUT or not 0 <= delay <= MAX_DELAY):
        raise ValueError(f"delay applies only to a timeout fault and must be between 0 and {MAX_DELAY:g} seconds.")
    return EmulatorFault.objects.create(endpoint=endpoint, kind=kind, remaining=times, delay=delay)


def clear() -> None:
    """Remove every injected fault."""
    EmulatorFault.objects.all().delete()


def live() -> list[EmulatorFault]:
    """List the faults with counts left, oldest first."""
    return list(EmulatorFault.objects.filter(remaining__gt=0).order_by("pk"))


def take(endpoint: str) -> EmulatorFault | None:
    """Consume one count of the oldest live fault for ``endpoint`` and return it, or None."""
    while True:
        fault = EmulatorFault.objects.filter(endpoint=endpoint, remaining__gt=0).order_by("pk").first()
        if fault is None:
            return None
        if EmulatorFault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault


def wait(fault: EmulatorFault) -> None:
    """Sleep for a timeout fault's delay, so the client's read timeout fires first."""
    time.sleep(DEFAULT_TIMEOUT_DELAY if fault.delay is None else fault.delay)


def response(fault: EmulatorFault) -> HttpResponseBase:
    """Build the answer to a consumed fault other than a timeout, in the endpoint's own error shape."""
    if fault.kind == FaultKind.SERVER_ERROR:
        return HttpResponse(
            "<!DOCTYPE html><html><head><title>Server Error</title></head><body><h1>An internal server "
            "error has occurred</h1></body></html>",
            status=500,
            content_type="text/html; charset=utf-8",
        )
    if fault.kind == FaultKind.MALFORMED_JSON:
        return HttpResponse('{"access_token": "00D', content_type="application/json;charset=UTF-8")
    if fault.kind == FaultKind.RATE_LIMITED and fault.endpoint in _OAUTH_ENDPOINTS:
        return JsonResponse({"error": "rate_limit_exceeded", "error_description": "rate limit exceeded"}, status=400)
    if fault.kind == FaultKind.RATE_LIMITED:
        error = RestError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    else:
        error = RestError(403, "API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization.")
    return JsonResponse(error.as_list(), status=error.status, safe=False)


def tampered_signature(answer: HttpResponseBase) -> HttpResponseBase:
    """Replace a successful token answer's ``signature`` with one that cannot verify."""
    if answer.status_code != 200:
        return answer
    body = json.loads(answer.content)
    body["signature"] = base64.b64encode(b"tampered-" + body.get("signature", "").encode()[:23]).decode()
    return JsonResponse(body)


def point(endpoint: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Decorate a view so that an injected fault for ``endpoint`` answers instead of (or delays) it."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            fault = take(endpoint)
            if fault is not None and fault.kind == FaultKind.BAD_SIGNATURE:
                return tampered_signature(view(request, *args, **kwargs))
            if fault is not None and fault.kind == FaultKind.TIMEOUT:
                wait(fault)
            elif fault is not None:
                return response(fault)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
