"""django-axes handler: a successful login forgives only its own username's failures (checklist F1)."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.http import HttpRequest


class UsernameResetDatabaseHandler(AxesDatabaseHandler):
    """Count failures in the database as axes does; on success, clear that username's failures alone.

    With ``AXES_RESET_ON_SUCCESS``, axes 8.3's ``reset_user_attempts`` deletes every attempt matching any
    lockout parameter, the client address included, so one account's valid logins would wipe guesses at
    other usernames from the same address (OWASP Credential Stuffing cheat sheet: throttle per address).
    """

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
