"""Hostile input: the emulator refuses what Salesforce refuses, in Salesforce's shapes, and never answers 500.

One test per attack from the bad-input sweep of issue 11 (items 6-8), named for it.
"""

from __future__ import annotations

import base64
import contextlib
import time

import pytest
from django.conf import settings
from pytest_django.asserts import assertContains

from salesforce_emulator import faults, limits, soql
from salesforce_emulator.errors import RestError
from salesforce_emulator.models import AuthorizationRequest, EmulatorFault
from salesforce_emulator.seed import DEMO_PASSWORD
from tests.salesforce_emulator.driver import SECRET, Salesforce, callback_params, request_id

LOGIN_FAILED = "Please check your username and password."
NUL = "\x00"

# --- Item 6: usernames match exactly (case-insensitively) or not at all ----------------------------------


def login_refused(sf: Salesforce, username: str, password: str = DEMO_PASSWORD) -> AuthorizationRequest:
    page = sf.authorize()
    response = sf.log_in(page, username, password)
    assertContains(response, LOGIN_FAILED)
    pending = AuthorizationRequest.objects.get(pk=request_id(page))
    assert pending.user_id is None
    return pending


def test_username_with_a_nul_byte_appended_does_not_log_in(sf: Salesforce) -> None:
    login_refused(sf, "api8@acme.example" + NUL)


@pytest.mark.parametrize(
    "username",
    [
        "api8@acme.example" + NUL + "anything",
        "api8@acme.exampl_",
        "api8@acme.%",
        "%",
        "api8@acme.example\n",
        "api8@acme.example.",
        "pi8@acme.example",
    ],
)
def test_username_that_is_not_exactly_a_users_does_not_log_in(sf: Salesforce, username: str) -> None:
    login_refused(sf, username)


def test_username_is_matched_case_insensitively(sf: Salesforce) -> None:
    page = sf.authorize()

    assertContains(sf.log_in(page, "API8@Acme.Example"), "Allow Access?")


# --- Item 7: every input bounded, refused in the endpoint's own shape ------------------------------------


def test_a_hundred_thousand_character_username_is_an_ordinary_login_failure(sf: Salesforce) -> None:
    login_refused(sf, "a" * 100_000)


def test_an_oversized_password_is_an_ordinary_login_failure(sf: Salesforce) -> None:
    login_refused(sf, "api8@acme.example", DEMO_PASSWORD + "x" * 100_000)


def test_an_oversized_or_nul_username_is_not_echoed_into_the_login_page(sf: Salesforce) -> None:
    for username in ("b" * 5_000, "api8@acme.example" + NUL):
        response = sf.log_in(sf.authorize(), username)
        assert username.encode() not in response.content


@pytest.mark.parametrize("request_id_value", ["x" * 100_000, "abc" + NUL])
def test_a_hostile_login_request_id_gets_the_error_page(sf: Salesforce, request_id_value: str) -> None:
    response = sf.client.post(
        sf.url("/login"), {"request": request_id_value, "username": "api@acme.example", "password": DEMO_PASSWORD}
    )

    assertContains(response, "invalid_request", status_code=400)


@pytest.mark.parametrize("request_id_value", ["x" * 100_000, "abc" + NUL])
def test_a_hostile_consent_request_id_gets_the_error_page(sf: Salesforce, request_id_value: str) -> None:
    response = sf.client.post(sf.url("/consent"), {"request": request_id_value, "decision": "allow"})

    assertContains(response, "invalid_request", status_code=400)


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": settings.SALESFORCE_CLIENT_ID + NUL},
        {"client_id": "3MVG9" + "k" * 100_000},
        {"redirect_uri": "http://127.0.0.1:8000/" + NUL},
        {"state": "state" + NUL},
        {"state": "s" * 100_000},
        {"nonce": "n" * 300},
        {"login_hint": "api@acme.example" + NUL},
        {"scope": "api " * 10_000},
    ],
)
def test_hostile_authorize_parameters_get_the_error_page_and_store_nothing(
    sf: Salesforce, params: dict[str, str]
) -> None:
    response = sf.authorize(**params)

    assert response.status_code == 400
    assert "Location" not in response
    assert not AuthorizationRequest.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": settings.SALESFORCE_CLIENT_ID + NUL},
        {"client_id": "k" * 100_000},
        {"client_secret": SECRET + NUL},
        {"code": "c" * 100_000},
        {"code": "c" + NUL},
        {"redirect_uri": "r" * 100_000},
        {"code_verifier": "v" * 100_000},
        {"grant_type": "authorization_code" + NUL},
    ],
)
def test_hostile_token_parameters_are_an_oauth_error(sf: Salesforce, overrides: dict[str, str]) -> None:
    grant = sf.grant("api@acme.example")

    response = sf.exchange(grant, **overrides)

    assert response.status_code == 400
    assert response["Cache-Control"] == "no-store"
    assert set(response.json()) == {"error", "error_description"}
    assert sf.exchange(grant).status_code == 200  # nothing was used up


def test_a_nul_client_id_in_the_basic_header_is_an_oauth_error(sf: Salesforce) -> None:
    credentials = base64.b64encode(f"{settings.SALESFORCE_CLIENT_ID}{NUL}:{SECRET}".encode()).decode()

    response = sf.client.post(
        sf.url("/services/oauth2/token"),
        "grant_type=refresh_token&refresh_token=x",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Basic {credentials}"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_id"


@pytest.mark.parametrize("token", ["t" * 100_000, "t" + NUL])
def test_hostile_revoke_token_is_an_oauth_error(sf: Salesforce, token: str) -> None:
    response = sf.revoke(token)

    assert response.status_code == 400
    assert set(response.json()) == {"error", "error_description"}


@pytest.mark.parametrize(
    "data",
    [
        {"endpoint": "query", "kind": "server_error", "times": 9223372036854775808},
        {"endpoint": "query", "kind": "server_error", "times": "9223372036854775808"},
        {"endpoint": "query", "kind": "server_error", "times": 10**6},
        {"endpoint": "query", "kind": "server_error", "times": 1e400},
        {"endpoint": "token", "kind": "timeout", "delay": "nan"},
        {"endpoint": "token", "kind": "timeout", "delay": "inf"},
        {"endpoint": "token", "kind": "timeout", "delay": 1e300},
        {"endpoint": "token", "kind": "timeout", "delay": [1]},
        {"endpoint": ["query"], "kind": "timeout"},
    ],
)
def test_fault_control_refuses_counts_and_delays_out_of_range(sf: Salesforce, data: dict[str, object]) -> None:
    response = sf.client.post("/_emulator/salesforce/_faults/", data, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]
    assert not EmulatorFault.objects.exists()


@pytest.mark.parametrize(("times", "delay"), [(faults.MAX_TIMES + 1, None), (1, faults.MAX_DELAY + 1)])
def test_inject_refuses_counts_and_delays_out_of_range(db: None, times: int, delay: float | None) -> None:
    with pytest.raises(ValueError):
        faults.inject("token", "timeout", times=times, delay=delay)


def test_identity_version_parameter_is_bounded(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")
    path = token["id"].removeprefix(sf.base_url)

    response = sf.get(path, token["access_token"], version="6" * 50_000 + ".0")

    assert response.status_code == 200
    assert response.json()["urls"]["rest"].endswith("/services/data/v{version}/")


# --- Item 8: a linear query parser, and the query's length bounded as Salesforce bounds it ----------------

WHITESPACE_RUNS = [
    "SELECT" + " " * 50_000 + "Id FROM UserPermissionAccess",
    "SELECT Id" + " " * 50_000 + "FROM UserPermissionAccess",
    "SELECT Id FROM" + "\t" * 50_000 + "UserPermissionAccess",
    "SELECT Id FROM UserPermissionAccess" + " " * 50_000,
    " " * 50_000 + "SELECT Id FROM UserPermissionAccess",
    "SELECT Id," + " " * 50_000 + "PermissionsApiEnabled FROM UserPermissionAccess",
    "SELECT" + " " * 50_000,
    "SELECT Id" + " " * 50_000 + "FROMX",
    "SELECT " + "Id " * 20_000 + "FROM UserPermissionAccess",
    "SELECT " + " ," * 25_000 + " FROM UserPermissionAccess",
]


@pytest.mark.parametrize("query", WHITESPACE_RUNS, ids=range(len(WHITESPACE_RUNS)))
def test_the_query_parser_is_linear_in_long_runs_of_whitespace(query: str) -> None:
    started = time.perf_counter()
    with contextlib.suppress(RestError):
        soql.parse(query)
    # A linear parse of 50,000 characters takes milliseconds; the quadratic one took minutes.
    assert time.perf_counter() - started < 1.0


def test_well_formed_queries_with_long_whitespace_still_parse() -> None:
    assert soql.parse("SELECT Id," + " \n\t" * 10_000 + "PermissionsApiEnabled FROM UserPermissionAccess") == [
        "Id",
        "PermissionsApiEnabled",
    ]


def test_a_query_longer_than_salesforces_limit_is_malformed() -> None:
    query = "SELECT Id FROM UserPermissionAccess" + " " * limits.MAX_SOQL_LENGTH

    with pytest.raises(RestError) as refused:
        soql.parse(query)

    assert refused.value.error_code == "MALFORMED_QUERY"
    assert len(refused.value.message) < 1_000


def test_a_query_uri_longer_than_salesforces_limit_is_414(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    response = sf.query(token["access_token"], "SELECT" + " " * 24_000 + "Id FROM UserPermissionAccess")

    assert response.status_code == 414
    assert response["Content-Type"].startswith("application/json")
    assert response.json()[0]["errorCode"]


def test_a_query_just_under_the_uri_limit_is_answered(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    response = sf.query(token["access_token"], "SELECT Id FROM UserPermissionAccess" + " " * 5_000)

    assert response.status_code == 200


def test_authorize_refusal_keeps_state_for_an_ordinary_bad_request(sf: Salesforce) -> None:
    """Bounding inputs does not change the ordinary refusals, which still go back with ``state``."""
    assert callback_params(sf.authorize(display="fullscreen"))["state"] == "state-123"
