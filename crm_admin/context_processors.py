"""Template context shared by every portal page."""

from __future__ import annotations

from django.http import HttpRequest

from crm_admin import selectors


def portal(request: HttpRequest) -> dict[str, object]:
    """Expose whether the navigation shows Business Apps → CRM Admin for the current user."""
    user = getattr(request, "user", None)
    return {"can_open_crm_admin": bool(user and selectors.user_can_open_crm_admin(user=user))}
