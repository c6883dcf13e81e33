"""The start rate limit under concurrency: simultaneous starts by one user count each other (checklist F3)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from crm_admin.exceptions import TooManyAttemptsError
from crm_admin.models import PendingAuthorization
from crm_admin.services import links as link_services

pytestmark = pytest.mark.django_db(transaction=True)

STARTS = 25


def test_simultaneous_starts_by_one_user_never_exceed_the_limit(admin_user, account):
    barrier = threading.Barrier(STARTS)

    def start(n: int) -> str:
        try:
            barrier.wait(timeout=30)
            link_services.link_start(
                user=admin_user, account=account, org_type="production", session_key=f"session-{n % 2}"
            )
            return "started"
        except TooManyAttemptsError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=STARTS) as pool:
        results = list(pool.map(start, range(STARTS)))

    assert results.count("started") == link_services.MAX_STARTS_PER_MINUTE
    assert results.count("refused") == STARTS - link_services.MAX_STARTS_PER_MINUTE
    assert PendingAuthorization.objects.filter(user=admin_user).count() == link_services.MAX_STARTS_PER_MINUTE
