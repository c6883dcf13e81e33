"""Service API keys: shown once, stored as a hash only, revocable, scoped, and their use recorded."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.auth import InsufficientScope, InvalidKey, ServiceKeyAuth
from api.models import ApiKey, ApiScope
from api.services import (
    LAST_USED_RESOLUTION,
    ApiKeyError,
    api_key_authenticate,
    api_key_create,
    api_key_record_use,
    api_key_revoke,
    key_prefix,
)
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/salesforce-links"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("api_key", *args, stdout=out)
    return out.getvalue()


def test_a_key_is_high_entropy_and_names_its_prefix():
    issued = api_key_create(name="call-logging", scopes=["read"])
    marker, prefix, secret = issued.raw_key.split("_", 2)
    assert marker == "vcc" and len(prefix) == 12 and len(secret) == 43  # 256 bits, URL-safe base64
    assert issued.api_key.prefix == f"vcc_{prefix}" == key_prefix(issued.raw_key)
    assert issued.raw_key not in repr(issued) and issued.raw_key not in repr(issued.api_key)
    assert api_key_create(name="other", scopes=["read"]).raw_key != issued.raw_key


def test_only_a_hash_of_the_key_is_stored():
    issued = api_key_create(name="call-logging", scopes=["read", "token"])
    secret = issued.raw_key.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_apikey")
        columns = [column[0] for column in cursor.description]
        (row,) = cursor.fetchall()
    stored = " ".join(str(value) for value in row)
    assert secret not in stored and issued.raw_key not in stored
    assert dict(zip(columns, row, strict=True))["key_hash"] == hashlib.sha256(issued.raw_key.encode()).hexdigest()


def test_create_prints_the_key_exactly_once_and_stores_its_hash():
    output = run("create", "call-logging", "--scope", "read", "--scope", "token")
    key = ApiKey.objects.get(name="call-logging")
    raw = next(line for line in output.splitlines() if line.startswith(key.prefix + "_"))
    assert output.count(raw) == 1
    assert output.count(raw.split("_", 2)[2]) == 1
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.scope_list == ["read", "token"]
    assert "shown only this once" in output
    assert api_key_authenticate(raw_key=raw) == key


def test_list_never_shows_a_secret():
    issued = api_key_create(name="call-logging", scopes=["read"])
    api_key_create(name="screen-pops", scopes=["token"])
    api_key_revoke(name_or_prefix="screen-pops")
    output = run("list")
    assert issued.raw_key.split("_", 2)[2] not in output
    assert issued.api_key.key_hash not in output
    lines = output.splitlines()
    assert lines[0].split() == ["NAME", "PREFIX", "SCOPES", "CREATED", "LAST", "USED", "REVOKED"]
    assert lines[1].startswith(f"call-logging             {issued.api_key.prefix}  read") and lines[1].endswith(" -")
    assert lines[2].startswith("screen-pops") and not lines[2].endswith(" -")


def test_list_without_keys():
    assert run("list") == "No API keys.\n"


@pytest.mark.parametrize("by", ["name", "prefix"])
def test_revoke_by_name_or_prefix_refuses_the_key_from_then_on(by):
    issued = api_key_create(name="call-logging", scopes=["read"])
    client = bearer(issued)
    assert client.get(LIST).status_code == 200
    output = run("revoke", issued.api_key.name if by == "name" else issued.api_key.prefix)
    assert output == f"Revoked API key call-logging ({issued.api_key.prefix}).\n"
    response = client.get(LIST)
    assert response.status_code == 401
    assert response.json() == {"detail": "The API key is not valid or has been revoked."}
    assert api_key_authenticate(raw_key=issued.raw_key) is None


def test_revoking_an_unknown_or_revoked_key_fails_clearly():
    with pytest.raises(CommandError, match="No active API key is named or prefixed 'nobody'"):
        run("revoke", "nobody")
    api_key_create(name="once", scopes=["read"])
    run("revoke", "once")
    with pytest.raises(CommandError, match="'once'"):
        run("revoke", "once")


def test_a_revoked_keys_name_can_be_given_to_its_replacement_but_not_an_active_ones():
    api_key_create(name="call-logging", scopes=["read"])
    with pytest.raises(CommandError, match="already exists"):
        run("create", "call-logging", "--scope", "read")
    api_key_revoke(name_or_prefix="call-logging")
    replacement = api_key_create(name="call-logging", scopes=["read"])
    assert ApiKey.objects.filter(name="call-logging").count() == 2
    assert api_key_revoke(name_or_prefix="call-logging") == replacement.api_key


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("", ["read"], "not a valid key name"),
        ("has space", ["read"], "not a valid key name"),
        ("x" * 101, ["read"], "not a valid key name"),
        ("ok", [], "at least one scope"),
        ("ok", ["read", "write"], "Unknown scope write"),
    ],
)
def test_create_refuses_bad_input(name, scopes, message):
    with pytest.raises(ApiKeyError, match=message):
        api_key_create(name=name, scopes=scopes)
    assert not ApiKey.objects.exists()


def test_the_command_offers_only_known_scopes():
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        run("create", "x", "--scope", "admin")


@pytest.mark.parametrize(
    "raw",
    ["", "vcc_", "vcc_0123456789ab", "vcc_0123456789ab_short", "vcc_0123456789AB_" + "a" * 43, "Bearer x"],
)
def test_a_malformed_key_is_refused_without_touching_the_database(raw):
    with CaptureQueriesContext(connection) as queries:
        assert api_key_authenticate(raw_key=raw) is None
    assert len(queries) == 0


def test_a_right_prefix_with_a_wrong_secret_is_refused():
    issued = api_key_create(name="call-logging", scopes=["read"])
    forged = issued.api_key.prefix + "_" + "A" * 43
    assert api_key_authenticate(raw_key=forged) is None
    assert ApiKey.objects.get().last_used_at is None


def test_each_use_is_recorded_at_most_once_a_minute():
    issued = api_key_create(name="call-logging", scopes=["read"])
    client = bearer(issued)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with CaptureQueriesContext(connection) as first:
            assert client.get(LIST).status_code == 200
        assert ApiKey.objects.get().last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        with CaptureQueriesContext(connection) as second:
            assert client.get(LIST).status_code == 200
        assert ApiKey.objects.get().last_used_at == start
    assert len(first) == len(second) + 1
    later = start + LAST_USED_RESOLUTION + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert client.get(LIST).status_code == 200
    assert ApiKey.objects.get().last_used_at == later


def test_a_concurrent_older_use_never_moves_last_used_back():
    api_key_create(name="call-logging", scopes=["read"])
    stale = ApiKey.objects.get()  # read by one worker before another records a newer use
    now = timezone.now()
    ApiKey.objects.update(last_used_at=now)
    api_key_record_use(api_key=stale, now=now - timedelta(minutes=5))
    assert ApiKey.objects.get().last_used_at == now


@pytest.mark.parametrize(("scopes", "allowed"), [(["token"], True), (["read"], False), (["read", "token"], True)])
def test_the_scope_check_for_a_token_operation(scopes, allowed):
    """The auth the access-token endpoint will use: ``ServiceKeyAuth(ApiScope.TOKEN)``."""
    issued = api_key_create(name="backend", scopes=scopes)
    request = RequestFactory().post("/", headers={"Authorization": f"Bearer {issued.raw_key}"})
    auth = ServiceKeyAuth(ApiScope.TOKEN)
    if allowed:
        assert auth(request) == issued.api_key
    else:
        with pytest.raises(InsufficientScope) as refused:
            auth(request)
        assert refused.value.status_code == 403 and refused.value.scope == ApiScope.TOKEN


def test_without_a_header_the_key_scheme_steps_aside_and_with_a_bad_one_it_refuses():
    auth = ServiceKeyAuth(ApiScope.READ)
    assert auth(RequestFactory().get("/")) is None
    with pytest.raises(InvalidKey):
        auth(RequestFactory().get("/", headers={"Authorization": "Basic abc"}))


def test_keys_never_reach_the_logs(caplog):
    issued = api_key_create(name="call-logging", scopes=["token"])
    caplog.set_level(logging.DEBUG)
    bearer(issued).get(LIST)  # 403: wrong scope
    bearer(issued).get("/api/v1/nothing")
    bearer(issued).post(LIST)
    secret = issued.raw_key.split("_", 2)[2]
    assert caplog.records and secret not in caplog.text
