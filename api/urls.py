"""The API's URLs under ``/api/v1/``: django-ninja's, made to answer errors in JSON, then a JSON 404 for any
other path."""

from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from api.endpoints import api
from api.errors import json_errors, unknown_path

app_name = "api"

#: django-ninja's schema and docs pages: reads only.
NINJA_PAGES = {"openapi-json", "openapi-view"}


def _pattern(pattern: URLPattern) -> URLPattern:
    """Wrap one of django-ninja's views. Each is CSRF-exempt at Django's level: the operations check CSRF
    in their session auth (``api.auth``), and the other views change nothing."""
    view = pattern.callback
    if pattern.name in NINJA_PAGES:
        view = require_safe(view)
    return URLPattern(pattern.pattern, csrf_exempt(json_errors(view)), pattern.default_args, pattern.name)


urlpatterns = [
    *(_pattern(pattern) for pattern in api.urls[0]),
    re_path(r"", unknown_path, name="unknown"),
]
