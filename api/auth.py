"""Who is calling: a service with an API key, or a person with a portal session.

Each operation lists the ways in it accepts, as django-ninja auth objects, which also describe them in
the OpenAPI schema. A later endpoint that needs another scope reuses them::

    @router.post("/accounts/{slug}/salesforce-link/access-token", auth=ServiceKeyAuth(ApiScope.TOKEN), ...)
    def access_token(request, slug: str): ...  # request.auth is the ApiKey

A request carrying an ``Authorization`` header is judged by it alone: a bad key is a 401 even when the
same browser also holds a portal session.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import APIKeyCookie
from ninja.security.http import HttpAuthBase

from api.models import ApiKey, ApiScope
from api.services import api_key_authenticate

#: The realm named in ``WWW-Authenticate`` (RFC 6750 §3).
REALM = "VCC CRM Admin API"


class InvalidKey(AuthenticationError):
    """An ``Authorization`` header that is not a working key (RFC 6750 §3.1 ``invalid_token``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class InsufficientScope(AuthorizationError):
    """A working key without the scope the operation needs (RFC 6750 §3.1 ``insufficient_scope``)."""

    def __init__(self, scope: ApiScope) -> None:
        self.scope = scope
        super().__init__(message=f"This API key does not have the '{scope}' scope this operation needs.")


class ServiceKeyAuth(HttpAuthBase):
    """``Authorization: Bearer <key>`` with a service API key holding ``scope``."""

    openapi_scheme = "bearer"
    openapi_bearerFormat = "vcc_<prefix>_<secret>"
    openapi_description = "A service API key from `manage.py api_key create NAME --scope …`."

    def __init__(self, scope: ApiScope) -> None:
        self.scope = scope
        super().__init__()

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        # The header's value is a secret: it never reaches a log or a message.
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise InvalidKey("Send the API key as 'Authorization: Bearer <key>'.")
        api_key = api_key_authenticate(raw_key=credentials.strip())
        if api_key is None:
            raise InvalidKey("The API key is not valid or has been revoked.")
        if not api_key.has_scope(self.scope):
            raise InsufficientScope(self.scope)
        return api_key


class PortalSessionAuth(APIKeyCookie):
    """The portal's login session, for people using the API from their browser (CSRF on unsafe methods)."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = "The portal's session cookie, after logging in at /login/."

    def authenticate(self, request: HttpRequest, key: str | None) -> AbstractBaseUser | None:
        user: Any = request.user
        return user if user.is_authenticated else None


#: The read operations: a service key with the ``read`` scope, or a portal session.
READ_ACCESS = [ServiceKeyAuth(ApiScope.READ), PortalSessionAuth()]
