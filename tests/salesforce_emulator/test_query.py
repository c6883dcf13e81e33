"""The REST query of UserPermissionAccess (reference §8), the way the portal checks the API user."""

from __future__ import annotations

import pytest

from tests.salesforce_emulator.driver import Salesforce

FIELDS = (
    "PermissionsApiEnabled, PermissionsEditTask, PermissionsViewAllUsers, PermissionsViewAllData, "
    "PermissionsModifyAllData, PermissionsPasswordNeverExpires, PermissionsViewSetup, "
    "PermissionsCustomizeApplication, PermissionsManageUsers"
)


def record(response) -> dict[str, object]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totalSize"] == 1
    assert body["done"] is True
    return body["records"][0]


def rest_error(response, status: int) -> tuple[str, str]:
    assert response.status_code == status, response.content
    [error] = response.json()
    return error["errorCode"], error["message"]


def test_query_answers_exactly_the_selected_fields(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    answer = record(
        sf.query(token["access_token"], "SELECT PermissionsApiEnabled, PermissionsEditTask FROM UserPermissionAccess")
    )

    assert answer == {
        "attributes": {
            "type": "UserPermissionAccess",
            "url": "/services/data/v62.0/sobjects/UserPermissionAccess/000000000000000AAA",
        },
        "PermissionsApiEnabled": True,
        "PermissionsEditTask": True,
    }


def test_query_keywords_and_fields_are_case_and_space_insensitive(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    answer = record(
        sf.query(
            token["access_token"], "  select permissionsapienabled ,PermissionsEditTask\n from  userpermissionaccess "
        )
    )

    assert set(answer) == {"attributes", "PermissionsApiEnabled", "PermissionsEditTask"}


def test_query_with_trailing_slash_and_other_version(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    response = sf.get("/services/data/v66.0/query/", token["access_token"], q="SELECT Id FROM UserPermissionAccess")

    assert record(response)["attributes"]["url"].startswith("/services/data/v66.0/")


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("api@acme.example", dict.fromkeys(FIELDS.split(", "), True)),
        (
            "basic@acme.example",
            dict.fromkeys(FIELDS.split(", "), False) | {"PermissionsApiEnabled": True, "PermissionsEditTask": True},
        ),
        ("noapi@acme.example", dict.fromkeys(FIELDS.split(", "), True) | {"PermissionsApiEnabled": False}),
        ("notask@acme.example", dict.fromkeys(FIELDS.split(", "), True) | {"PermissionsEditTask": False}),
    ],
)
def test_query_reports_each_demo_users_permissions(sf: Salesforce, username: str, expected: dict[str, bool]) -> None:
    token = sf.tokens_for(username)

    answer = record(sf.query(token["access_token"], f"SELECT {FIELDS} FROM UserPermissionAccess"))

    assert {key: value for key, value in answer.items() if key != "attributes"} == expected


def test_unknown_field_is_invalid_field(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    code, message = rest_error(sf.query(token["access_token"], "SELECT PermissionsFly FROM UserPermissionAccess"), 400)

    assert code == "INVALID_FIELD"
    assert message.startswith("No such column 'PermissionsFly' on entity 'UserPermissionAccess'")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "SELECT FROM UserPermissionAccess",
        "SELECT PermissionsApiEnabled FROM UserPermissionAccess WHERE Id = 'x'",
        "SELECT PermissionsApiEnabled FROM UserPermissionAccess LIMIT 1",
        "SELECT PermissionsApiEnabled,, PermissionsEditTask FROM UserPermissionAccess",
        "SELECT PermissionsApiEnabled, FROM UserPermissionAccess",
        "SELECT Name FROM Account",
        "SELECT PermissionsApiEnabled, PermissionsApiEnabled FROM UserPermissionAccess",
        "DELETE FROM UserPermissionAccess",
    ],
)
def test_other_query_shapes_are_malformed(sf: Salesforce, query: str) -> None:
    token = sf.tokens_for("api@acme.example")

    assert rest_error(sf.query(token["access_token"], query), 400)[0] == "MALFORMED_QUERY"


@pytest.mark.parametrize("access_token", [None, "00Dforged!token"])
def test_missing_or_bad_token_is_invalid_session(sf: Salesforce, access_token: str | None) -> None:
    response = sf.query(access_token, "SELECT Id FROM UserPermissionAccess")

    assert rest_error(response, 401) == ("INVALID_SESSION_ID", "Session expired or invalid")


def test_revoked_token_is_invalid_session(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")
    sf.revoke(token["refresh_token"])

    assert (
        rest_error(sf.query(token["access_token"], "SELECT Id FROM UserPermissionAccess"), 401)[0]
        == "INVALID_SESSION_ID"
    )


def test_token_without_api_scope_is_not_valid_for_rest(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example", scope="id refresh_token")

    code, message = rest_error(sf.query(token["access_token"], "SELECT Id FROM UserPermissionAccess"), 401)

    assert code == "INVALID_SESSION_ID"
    assert "not valid for use with the REST API" in message


def test_org_with_api_disabled_is_refused(sf: Salesforce) -> None:
    token = sf.tokens_for("admin@noapi.example")

    error = rest_error(sf.query(token["access_token"], "SELECT Id FROM UserPermissionAccess"), 403)

    assert error == ("API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization.")


def test_token_of_production_is_invalid_on_sandbox(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    response = sf.on("sandbox").query(token["access_token"], "SELECT Id FROM UserPermissionAccess")

    assert rest_error(response, 401)[0] == "INVALID_SESSION_ID"


def test_sandbox_user_queries_on_sandbox(sf: Salesforce) -> None:
    sandbox = sf.on("sandbox")
    token = sandbox.tokens_for("api@acme.example.uat")

    assert token["instance_url"].endswith("/_emulator/salesforce/sandbox")
    assert record(sandbox.query(token["access_token"], "SELECT PermissionsApiEnabled FROM UserPermissionAccess"))
