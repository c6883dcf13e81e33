"""Refresh token rotation (reference §5) and token introspection, as the emulator's connected app offers them."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from salesforce_emulator.models import RefreshToken
from salesforce_emulator.seed import DEFAULT_CONSUMER_KEY, refresh_token_rotation
from tests.salesforce_emulator.driver import SECRET, Salesforce

USER = "api@acme.example"


@pytest.fixture
def rotation(seeded) -> None:
    refresh_token_rotation(True)


def test_rotation_is_off_by_default(seeded) -> None:
    assert refresh_token_rotation() is False


def test_with_rotation_each_refresh_answers_a_new_refresh_token_and_the_old_one_dies(sf: Salesforce, rotation) -> None:
    first = sf.tokens_for(USER)["refresh_token"]
    second = sf.refresh(first).json()["refresh_token"]
    third = sf.refresh(second).json()["refresh_token"]
    assert len({first, second, third}) == 3
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 1  # still one approval


def test_reusing_a_rotated_out_token_revokes_the_grant(sf: Salesforce, rotation) -> None:
    first = sf.tokens_for(USER)["refresh_token"]
    second = sf.refresh(first).json()["refresh_token"]
    reuse = sf.refresh(first)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    after = sf.refresh(second)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()


def test_rotation_keeps_the_approvals_age_for_the_five_approvals_limit(sf: Salesforce, rotation) -> None:
    oldest = sf.tokens_for(USER)["refresh_token"]
    rotated = sf.refresh(oldest).json()["refresh_token"]
    for _ in range(5):
        sf.tokens_for(USER)
    assert sf.refresh(rotated).json()["error"] == "invalid_grant"  # the oldest approval went, rotated or not


def test_rotation_command_turns_it_on_and_off(seeded, capsys) -> None:
    call_command("emulator_app", "rotation", "on")
    assert refresh_token_rotation() is True and "on" in capsys.readouterr().out
    call_command("emulator_app", "rotation", "off")
    assert refresh_token_rotation() is False


def introspect(sf: Salesforce, token: str, *, secret: str = SECRET, basic: bool = False):
    data = {"token": token, "token_type_hint": "access_token"}
    headers = {}
    if basic:
        headers["HTTP_AUTHORIZATION"] = (
            "Basic " + base64.b64encode(f"{DEFAULT_CONSUMER_KEY}:{secret}".encode()).decode()
        )
    else:
        data.update(client_id=DEFAULT_CONSUMER_KEY, client_secret=secret)
    return sf.client.post(sf.url("/services/oauth2/introspect"), data, **headers)


def test_introspection_tells_an_access_tokens_expiry(sf: Salesforce) -> None:
    tokens = sf.tokens_for(USER)
    response = introspect(sf, tokens["access_token"])
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["active"] is True and body["token_type"] == "access_token"
    assert body["username"] == USER and body["client_id"] == DEFAULT_CONSUMER_KEY and body["sub"] == tokens["id"]
    assert body["exp"] - body["iat"] == 2 * 60 * 60  # the emulated org's session timeout


def test_introspection_of_a_refresh_token_has_no_expiry(sf: Salesforce) -> None:
    body = introspect(sf, sf.tokens_for(USER)["refresh_token"], basic=True).json()
    assert body["active"] is True and body["token_type"] == "refresh_token" and "exp" not in body


def test_revoked_expired_or_unknown_tokens_are_inactive(sf: Salesforce) -> None:
    tokens = sf.tokens_for(USER)
    assert introspect(sf, "00Dforged!token").json() == {"active": False}
    with time_machine.travel(timezone.now() + timedelta(hours=2, seconds=1)):
        assert introspect(sf, tokens["access_token"]).json() == {"active": False}
    sf.revoke(tokens["refresh_token"])
    assert introspect(sf, tokens["access_token"]).json() == {"active": False}


def test_introspection_needs_the_apps_credentials(sf: Salesforce) -> None:
    response = introspect(sf, sf.tokens_for(USER)["access_token"], secret="wrong")
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"
