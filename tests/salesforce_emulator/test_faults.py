"""Fault injection: the Python API, each kind at each endpoint, the HTTP control endpoint and counts."""

from __future__ import annotations

import json
import threading

import pytest

from salesforce_emulator import faults
from salesforce_emulator.models import EmulatorFault
from tests.salesforce_emulator.driver import Salesforce, callback_params

QUERY = "SELECT PermissionsApiEnabled FROM UserPermissionAccess"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record timeout faults' sleeps instead of sleeping."""
    recorded: list[float] = []
    monkeypatch.setattr(faults.time, "sleep", recorded.append)
    return recorded


@pytest.fixture
def token(sf: Salesforce) -> dict[str, str]:
    return sf.tokens_for("api@acme.example")


def call(sf: Salesforce, endpoint: str, token: dict[str, str]):
    """Make one well-formed call of ``endpoint``."""
    if endpoint == "authorize":
        return sf.authorize()
    if endpoint == "token":
        return sf.refresh(token["refresh_token"])
    if endpoint == "revoke":
        return sf.revoke(token["access_token"])
    if endpoint == "identity":
        return sf.get(token["id"].removeprefix(sf.base_url), token["access_token"])
    if endpoint == "userinfo":
        return sf.get("/services/oauth2/userinfo", token["access_token"])
    assert endpoint == "query"
    return sf.query(token["access_token"], QUERY)


def test_fault_answers_only_its_count_then_the_endpoint_recovers(sf: Salesforce, token: dict[str, str]) -> None:
    faults.inject("query", "server_error", times=2)

    statuses = [sf.query(token["access_token"], QUERY).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_fault_touches_only_its_endpoint(sf: Salesforce, token: dict[str, str]) -> None:
    faults.inject("identity", "server_error")

    assert sf.query(token["access_token"], QUERY).status_code == 200
    assert EmulatorFault.objects.get().remaining == 1


def test_clear_removes_every_fault(sf: Salesforce, token: dict[str, str]) -> None:
    faults.inject("query", "server_error", times=5)

    faults.clear()

    assert sf.query(token["access_token"], QUERY).status_code == 200


def test_timeout_sleeps_the_default_twenty_seconds_then_answers(
    sf: Salesforce, token: dict[str, str], sleeps: list[float]
) -> None:
    faults.inject("query", "timeout")

    response = sf.query(token["access_token"], QUERY)

    assert sleeps == [20.0]
    assert response.status_code == 200


def test_timeout_on_token_uses_the_given_delay(sf: Salesforce, sleeps: list[float]) -> None:
    grant = sf.grant("api@acme.example")
    faults.inject("token", "timeout", delay=0.5)

    assert sf.exchange(grant).status_code == 200
    assert sleeps == [0.5]


def test_timeout_on_authorize_then_shows_the_login_page(sf: Salesforce, sleeps: list[float]) -> None:
    faults.inject("authorize", "timeout", delay=3)

    assert b"Log In" in sf.authorize().content
    assert sleeps == [3]


@pytest.mark.parametrize("endpoint", ["authorize", "token", "revoke", "identity", "userinfo", "query"])
def test_server_error_is_a_500_html_page(sf: Salesforce, token: dict[str, str], endpoint: str) -> None:
    faults.inject(endpoint, "server_error")

    response = call(sf, endpoint, token)

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("endpoint", ["token", "revoke", "identity", "userinfo", "query"])
def test_malformed_json_is_a_200_json_that_does_not_parse(sf: Salesforce, token: dict[str, str], endpoint: str) -> None:
    faults.inject(endpoint, "malformed_json")

    response = call(sf, endpoint, token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


@pytest.mark.parametrize("endpoint", ["token", "revoke"])
def test_rate_limited_oauth_endpoint_is_400_rate_limit_exceeded(
    sf: Salesforce, token: dict[str, str], endpoint: str
) -> None:
    faults.inject(endpoint, "rate_limited")

    response = call(sf, endpoint, token)

    assert response.status_code == 400
    assert response.json() == {"error": "rate_limit_exceeded", "error_description": "rate limit exceeded"}


@pytest.mark.parametrize("endpoint", ["identity", "userinfo", "query"])
def test_rate_limited_rest_endpoint_is_403_request_limit_exceeded(
    sf: Salesforce, token: dict[str, str], endpoint: str
) -> None:
    faults.inject(endpoint, "rate_limited")

    response = call(sf, endpoint, token)

    assert response.status_code == 403
    assert response.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_rate_limited_authorize_redirects_with_rate_limit_exceeded(sf: Salesforce) -> None:
    faults.inject("authorize", "rate_limited")

    query = callback_params(sf.authorize())

    assert query["error"] == "rate_limit_exceeded"
    assert query["state"] == "state-123"


def test_rate_limited_authorize_still_refuses_unknown_clients_on_its_page(sf: Salesforce) -> None:
    faults.inject("authorize", "rate_limited")

    assert sf.authorize(client_id="3MVG9unknown").status_code == 400
    assert EmulatorFault.objects.get().remaining == 1


@pytest.mark.parametrize("endpoint", ["identity", "userinfo", "query"])
def test_api_disabled_is_403_api_disabled_for_org(sf: Salesforce, token: dict[str, str], endpoint: str) -> None:
    faults.inject(endpoint, "api_disabled")

    response = call(sf, endpoint, token)

    assert response.status_code == 403
    assert response.json()[0]["errorCode"] == "API_DISABLED_FOR_ORG"


@pytest.mark.parametrize(
    ("endpoint", "kind", "times", "delay"),
    [
        ("nowhere", "timeout", 1, None),
        ("query", "explode", 1, None),
        ("token", "api_disabled", 1, None),
        ("authorize", "malformed_json", 1, None),
        ("query", "timeout", 0, None),
        ("query", "server_error", 1, 2.0),
        ("query", "timeout", 1, -1.0),
    ],
)
def test_inject_refuses_bad_input(db: None, endpoint: str, kind: str, times: int, delay: float | None) -> None:
    with pytest.raises(ValueError):
        faults.inject(endpoint, kind, times=times, delay=delay)


def test_concurrent_calls_consume_each_count_once(db: None) -> None:
    faults.inject("query", "server_error", times=3)

    assert [faults.take("query") is not None for _ in range(4)] == [True, True, True, False]


@pytest.mark.django_db(transaction=True)
def test_threads_share_the_counts() -> None:
    faults.inject("query", "server_error", times=5)
    taken: list[bool] = []

    def worker() -> None:
        from django.db import connection

        try:
            taken.append(faults.take("query") is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken) == [False] * 3 + [True] * 5


# --- The HTTP control endpoint -------------------------------------------------------------------------


def test_control_endpoint_injects_from_json(sf: Salesforce, token: dict[str, str]) -> None:
    response = sf.client.post(
        "/_emulator/salesforce/_faults/",
        {"endpoint": "query", "kind": "rate_limited", "times": 2},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json() | {"id": None} == {
        "id": None,
        "endpoint": "query",
        "kind": "rate_limited",
        "remaining": 2,
        "delay": None,
    }
    assert sf.query(token["access_token"], QUERY).status_code == 403


def test_control_endpoint_injects_from_form_and_lists(sf: Salesforce) -> None:
    sf.client.post("/_emulator/salesforce/_faults/", {"endpoint": "token", "kind": "timeout", "delay": "1.5"})

    listing = sf.client.get("/_emulator/salesforce/_faults/").json()

    assert [(f["endpoint"], f["kind"], f["delay"]) for f in listing["faults"]] == [("token", "timeout", 1.5)]


def test_control_endpoint_clears_with_delete_or_action(sf: Salesforce) -> None:
    faults.inject("query", "server_error")
    assert sf.client.delete("/_emulator/salesforce/_faults/").json() == {"faults": []}
    faults.inject("query", "server_error")
    assert sf.client.post("/_emulator/salesforce/_faults/", {"action": "clear"}).status_code == 200

    assert not EmulatorFault.objects.exists()


@pytest.mark.parametrize(
    "data", [{"endpoint": "query", "kind": "boom"}, {"endpoint": "query", "kind": "timeout", "times": "many"}, {}]
)
def test_control_endpoint_refuses_bad_input(sf: Salesforce, data: dict[str, str]) -> None:
    response = sf.client.post("/_emulator/salesforce/_faults/", data, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]
    assert not EmulatorFault.objects.exists()


def test_call_helper_reaches_every_endpoint_without_faults(sf: Salesforce, token: dict[str, str]) -> None:
    statuses = [
        call(sf, endpoint, token).status_code for endpoint in ("authorize", "token", "identity", "userinfo", "query")
    ]

    assert statuses == [200] * 5
