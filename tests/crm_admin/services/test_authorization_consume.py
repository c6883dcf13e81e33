from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from crm_admin.exceptions import AttemptExpiredError, AttemptInvalidError
from crm_admin.models import AuthorizationOutcome, PendingAuthorization
from crm_admin.services import links as link_services
from tests.crm_admin.services.conftest import SESSION, start_attempt

pytestmark = pytest.mark.django_db


def consume(state, user, session_key=SESSION):
    return link_services.authorization_consume(state=state, user=user, session_key=session_key)


def test_valid_state_is_consumed_once(admin_user, account):
    start, state = start_attempt(admin_user, account)
    attempt = consume(state, admin_user)
    assert attempt.pk == start.attempt.pk and attempt.consumed_at is not None
    with pytest.raises(AttemptInvalidError):
        consume(state, admin_user)


@pytest.mark.parametrize("state", ["", "forged-state", "x" * 43])
def test_forged_or_missing_state_is_invalid(admin_user, account, state):
    start_attempt(admin_user, account)
    with pytest.raises(AttemptInvalidError):
        consume(state, admin_user)


def test_state_of_another_user_is_invalid_and_stays_usable_for_its_owner(admin_user, other_admin, account):
    _, state = start_attempt(admin_user, account)
    with pytest.raises(AttemptInvalidError):
        consume(state, other_admin)
    assert consume(state, admin_user).consumed_at is not None


def test_state_of_another_session_is_invalid(admin_user, account):
    _, state = start_attempt(admin_user, account)
    with pytest.raises(AttemptInvalidError):
        consume(state, admin_user, session_key="stolen-elsewhere")


def test_anonymous_callback_is_invalid(admin_user, account):
    _, state = start_attempt(admin_user, account)
    with pytest.raises(AttemptInvalidError):
        consume(state, AnonymousUser())


def test_state_expires_after_ten_minutes(admin_user, account):
    start, state = start_attempt(admin_user, account)
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=False), pytest.raises(AttemptExpiredError):
        consume(state, admin_user)
    attempt = PendingAuthorization.objects.get(pk=start.attempt.pk)
    assert attempt.outcome == AuthorizationOutcome.FAILED and "expired" in attempt.message
    with pytest.raises(AttemptInvalidError):
        consume(state, admin_user)


def test_state_just_before_expiry_is_valid(admin_user, account):
    _, state = start_attempt(admin_user, account)
    with time_machine.travel(timezone.now() + timedelta(minutes=9, seconds=50), tick=False):
        assert consume(state, admin_user).consumed_at is not None


def test_an_abandoned_attempt_can_still_complete(admin_user, account):
    start, state = start_attempt(admin_user, account)
    link_services.attempt_abandon(attempt=start.attempt)
    assert PendingAuthorization.objects.get(pk=start.attempt.pk).outcome == AuthorizationOutcome.ABANDONED
    assert consume(state, admin_user).pk == start.attempt.pk


def test_abandon_does_not_touch_a_consumed_attempt(admin_user, account):
    start, state = start_attempt(admin_user, account)
    consume(state, admin_user)
    attempt = link_services.attempt_abandon(attempt=start.attempt)
    assert attempt.outcome == AuthorizationOutcome.PENDING
