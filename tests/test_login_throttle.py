"""Checklist F1: login is throttled by username and by client address, with the same answer for unknown
users; F2: the session key changes at login and the old cookie is useless after logout."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def throttling(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def attempt(username: str, password: str = "wrong-password", ip: str = "10.0.0.1", client: Client | None = None):
    return (client or Client(REMOTE_ADDR=ip)).post("/login/", {"username": username, "password": password})


def test_correct_password_is_refused_while_the_username_is_locked(db):
    UserFactory(username="victim")
    assert [attempt("victim", ip=f"10.0.0.{n}").status_code for n in range(3)] == [200, 200, 429]
    locked = attempt("victim", PASSWORD, ip="10.9.9.9")
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert attempt("victim", PASSWORD, ip="10.9.9.9").status_code == 302


def test_one_address_guessing_many_usernames_is_locked(db):
    UserFactory(username="someone")
    for n in range(3):
        attempt(f"guess{n}", ip="10.1.1.1")
    assert attempt("someone", PASSWORD, ip="10.1.1.1").status_code == 429
    assert attempt("someone", PASSWORD, ip="10.2.2.2").status_code == 302


def test_valid_logins_interleaved_with_guesses_still_lock_the_address(db):
    """Issue 11 item 2: an attacker holding one account cannot reset the address's count by logging in."""
    UserFactory(username="insider")
    UserFactory(username="bystander")
    guesses = []
    for n in range(3):
        guesses.append(attempt(f"target{n}", ip="10.6.6.6").status_code)
        if n < 2:
            assert attempt("insider", PASSWORD, ip="10.6.6.6").status_code == 302
    assert guesses == [200, 200, 429]
    assert attempt("target9", ip="10.6.6.6").status_code == 429
    assert attempt("insider", PASSWORD, ip="10.6.6.6").status_code == 429
    assert attempt("bystander", PASSWORD, ip="10.7.7.7").status_code == 302  # other addresses unaffected


def test_a_successful_login_clears_only_its_own_usernames_failures(db):
    UserFactory(username="typo")
    for _ in range(2):
        attempt("typo", ip="10.8.8.8")
    attempt("someone-else", ip="10.9.9.1")
    attempt("someone-else", ip="10.9.9.2")
    assert attempt("typo", PASSWORD, ip="10.8.8.8").status_code == 302
    for _ in range(2):  # the two earlier mistakes no longer count against "typo" or its address
        attempt("typo", ip="10.8.8.8")
    assert attempt("typo", PASSWORD, ip="10.8.8.8").status_code == 302
    assert attempt("someone-else", ip="10.9.9.3").status_code == 429  # other usernames keep their count


def test_unknown_and_known_usernames_get_the_same_answer(db):
    UserFactory(username="known")

    def page(username: str, ip: str) -> str:
        html = attempt(username, ip=ip).content.decode()
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    known = page("known", "10.3.3.3")
    unknown = page("nobody-here", "10.4.4.4")
    assert "didn't match" in known and "didn't match" in unknown
    assert known.replace("known", "X") == unknown.replace("nobody-here", "X")


def test_a_client_supplied_forwarded_for_is_not_trusted_without_proxies(db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(3):
        Client(REMOTE_ADDR="10.5.5.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").post(
            "/login/", {"username": f"x{n}", "password": "bad"}
        )
    assert attempt("x9", ip="10.5.5.5").status_code == 429


def test_the_trusted_proxys_forwarded_address_is_used(settings):
    from vcc_portal.client_ip import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    spoofed = RequestFactory().get("/", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7")
    assert client_ip(spoofed) == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(spoofed) == "10.0.0.254"


def test_session_key_rotates_at_login_and_dies_at_logout(db):
    UserFactory(username="rotator")
    client = Client()
    client.get("/login/")
    client.cookies["sessionid"] = "pre-login-session-key-0123456789ab"
    attempt("rotator", PASSWORD, client=client)
    key = client.cookies["sessionid"].value
    assert key != "pre-login-session-key-0123456789ab"
    client.post("/logout/")
    stale = Client()
    stale.cookies["sessionid"] = key
    assert stale.get("/accounts/acme/crm-admin/").status_code == 302  # back to /login/
