from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.utils import timezone

from crm_admin import crypto
from crm_admin.exceptions import AttemptInvalidError, TooManyAttemptsError
from crm_admin.models import AuthorizationOutcome, LinkEvent, PendingAuthorization
from crm_admin.salesforce.client import pkce_challenge
from crm_admin.services import links as link_services
from tests.crm_admin.services.conftest import SESSION, start_attempt
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_authorize_url_carries_pkce_s256_of_the_stored_verifier(admin_user, account, settings):
    start, _ = start_attempt(admin_user, account)
    params = query(start.authorize_url)
    verifier = crypto.decrypt(start.attempt.code_verifier_encrypted)
    assert 43 <= len(verifier) <= 128
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"] == pkce_challenge(verifier)


def test_authorize_url_uses_settings_redirect_uri_scopes_and_prompt(admin_user, account, settings):
    settings.SALESFORCE_REDIRECT_URI = "https://vcc.example.com/crm-admin/salesforce/callback/"
    settings.SALESFORCE_PRODUCTION_LOGIN_URL = "https://login.salesforce.com"
    start, _ = start_attempt(admin_user, account)
    params = query(start.authorize_url)
    assert start.authorize_url.startswith("https://login.salesforce.com/services/oauth2/authorize?")
    assert params["redirect_uri"] == settings.SALESFORCE_REDIRECT_URI
    assert params["response_type"] == "code"
    assert params["client_id"] == settings.SALESFORCE_CLIENT_ID
    assert params["scope"] == "api refresh_token id"
    assert params["prompt"] == "login consent"
    assert params["display"] == "popup"
    assert "login_hint" not in params


def test_sandbox_goes_to_the_sandbox_login_url(admin_user, account, settings):
    settings.SALESFORCE_SANDBOX_LOGIN_URL = "https://test.salesforce.com"
    start, _ = start_attempt(admin_user, account, org_type="sandbox")
    assert start.authorize_url.startswith("https://test.salesforce.com/services/oauth2/authorize?")
    assert start.attempt.org_type == "sandbox"


def test_state_is_long_random_and_stored_only_hashed(admin_user, account):
    start, state = start_attempt(admin_user, account)
    assert len(state) >= 43  # 32 bytes, base64url
    attempt = PendingAuthorization.objects.get(pk=start.attempt.pk)
    assert attempt.state_hash == hashlib.sha256(state.encode()).hexdigest()
    assert state not in str(PendingAuthorization.objects.filter(pk=attempt.pk).values().get())
    assert attempt.expires_at - attempt.created_at == timedelta(minutes=10)
    assert attempt.user == admin_user and attempt.account == account


def test_login_hint_is_passed_to_salesforce(admin_user, account):
    start, _ = start_attempt(admin_user, account, login_hint=" api@acme.example ")
    assert query(start.authorize_url)["login_hint"] == "api@acme.example"
    assert start.attempt.login_hint == "api@acme.example"


def test_open_attempts_per_session_are_capped_and_the_oldest_evicted(admin_user, account):
    first, first_state = start_attempt(admin_user, account)
    for _ in range(link_services.MAX_OPEN_ATTEMPTS_PER_SESSION):
        start_attempt(admin_user, account)
    open_attempts = PendingAuthorization.objects.filter(outcome=AuthorizationOutcome.PENDING)
    assert open_attempts.count() == link_services.MAX_OPEN_ATTEMPTS_PER_SESSION
    evicted = PendingAuthorization.objects.get(pk=first.attempt.pk)
    assert evicted.outcome == AuthorizationOutcome.FAILED and evicted.consumed_at is not None
    assert evicted.message == link_services.SUPERSEDED_MESSAGE
    with pytest.raises(AttemptInvalidError):  # checklist F3: the evicted attempt's callback is refused
        link_services.authorization_consume(state=first_state, user=admin_user, session_key=SESSION)


def test_starting_too_often_from_several_sessions_is_refused(admin_user, account):
    for n in range(link_services.MAX_STARTS_PER_MINUTE):
        start_attempt(admin_user, account, session_key=f"s{n % 3}")
    with pytest.raises(TooManyAttemptsError):
        start_attempt(admin_user, account, session_key="another")


def test_starting_too_often_from_one_session_is_refused(admin_user, account):
    """Issue 11 item 1: evicting a session's oldest attempts must not erase them from the count."""
    for _ in range(link_services.MAX_STARTS_PER_MINUTE):
        start_attempt(admin_user, account, session_key=SESSION)
    with pytest.raises(TooManyAttemptsError):
        start_attempt(admin_user, account, session_key=SESSION)
    assert PendingAuthorization.objects.filter(user=admin_user).count() == link_services.MAX_STARTS_PER_MINUTE


def test_the_start_limit_counts_only_the_last_minute(admin_user, account):
    for _ in range(link_services.MAX_STARTS_PER_MINUTE):
        start_attempt(admin_user, account, session_key=SESSION)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        start, _ = start_attempt(admin_user, account, session_key=SESSION)
    assert start.authorize_url


def test_the_start_limit_is_per_user(admin_user, other_admin, account, other_account):
    for _ in range(link_services.MAX_STARTS_PER_MINUTE):
        start_attempt(admin_user, account, session_key=SESSION)
    start, _ = start_attempt(other_admin, other_account, session_key="other-session")
    assert start.authorize_url


def test_login_hint_of_a_full_api_user_is_refused_before_salesforce(admin_user, account):
    api_user = ApiUserFactory(username="full@acme.example")
    for _ in range(5):
        make_linked(AccountFactory(), api_user)
    start, state = start_attempt(admin_user, account, login_hint="FULL@acme.example")
    assert start.authorize_url == "" and state == ""
    attempt = PendingAuthorization.objects.get(pk=start.attempt.pk)
    assert attempt.outcome == AuthorizationOutcome.REFUSED
    assert "already linked to 5 VCC accounts" in attempt.message
    assert "another API user" in attempt.message
    assert attempt.consumed_at is not None
    event = LinkEvent.objects.get(account=account)
    assert event.action == "refused" and event.detail["before_salesforce"] is True


def test_login_hint_with_four_accounts_or_the_own_account_is_allowed(admin_user, account):
    api_user = ApiUserFactory(username="four@acme.example")
    for _ in range(4):
        make_linked(AccountFactory(), api_user)
    make_linked(account, api_user)  # relinking the same account does not count twice
    start, _ = start_attempt(admin_user, account, login_hint="four@acme.example")
    assert start.authorize_url


def test_attempts_of_other_sessions_are_not_evicted(admin_user, account):
    other, _ = start_attempt(admin_user, account, session_key="other-session")
    for _ in range(link_services.MAX_OPEN_ATTEMPTS_PER_SESSION + 2):
        start_attempt(admin_user, account, session_key=SESSION)
    assert PendingAuthorization.objects.filter(pk=other.attempt.pk).exists()
