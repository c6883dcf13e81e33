"""The REST API as real clients find it (issue 11 item 9): the versions list, a version's resources, and
Salesforce's JSON ``NOT_FOUND`` for every path the emulator does not serve, never an HTML page."""

from __future__ import annotations

import pytest

from tests.salesforce_emulator.driver import Salesforce


def rest_error(response, status: int) -> tuple[str, str]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    [error] = response.json()
    return error["errorCode"], error["message"]


@pytest.mark.parametrize("path", ["/services/data/", "/services/data"])
def test_versions_are_listed_without_authentication(sf: Salesforce, path: str) -> None:
    response = sf.get(path)

    assert response.status_code == 200
    versions = response.json()
    assert versions[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in versions
    assert {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"} in versions
    assert versions[-1]["version"] == "67.0" and versions[-1]["label"] == "Summer '26"
    assert [float(v["version"]) for v in versions] == sorted(float(v["version"]) for v in versions)


@pytest.mark.parametrize("path", ["/services/data/v62.0/", "/services/data/v62.0"])
def test_a_versions_resources_are_listed_for_a_live_session(sf: Salesforce, path: str) -> None:
    token = sf.tokens_for("api@acme.example")

    response = sf.get(path, token["access_token"])

    assert response.status_code == 200
    resources = response.json()
    assert resources["query"] == "/services/data/v62.0/query"
    assert resources["sobjects"] == "/services/data/v62.0/sobjects"
    assert resources["identity"] == token["id"]


def test_resources_need_a_session(sf: Salesforce) -> None:
    assert rest_error(sf.get("/services/data/v62.0/"), 401) == ("INVALID_SESSION_ID", "Session expired or invalid")


def test_resources_of_a_sandbox_session_point_into_the_sandbox(sf: Salesforce) -> None:
    sandbox = sf.on("sandbox")
    token = sandbox.tokens_for("api@acme.example.uat")

    assert sandbox.get("/services/data/v66.0/", token["access_token"]).json()["identity"] == token["id"]


@pytest.mark.parametrize(
    "path",
    [
        "/services/data/v62.0/sobjects",
        "/services/data/v62.0/sobjects/Account/describe",
        "/services/data/v62.0/limits/",
        "/services/data/latest/",
        "/services/data/v62/",
        "/services/data/v620.0/query",
        "/services/apexrest/anything",
        "/services/Soap/u/62.0",
        "/services/oauth2/nowhere",
        "/services/data/v62.0/query/more/",
    ],
)
def test_every_unknown_rest_path_is_a_json_not_found(sf: Salesforce, path: str) -> None:
    token = sf.tokens_for("api@acme.example")

    response = sf.get(path, token["access_token"])

    assert rest_error(response, 404) == ("NOT_FOUND", "The requested resource does not exist")


@pytest.mark.parametrize("version", ["20.0", "30.0", "68.0", "99.0", "62.5"])
def test_a_version_salesforce_does_not_serve_is_not_found(sf: Salesforce, version: str) -> None:
    token = sf.tokens_for("api@acme.example")

    assert rest_error(sf.get(f"/services/data/v{version}/", token["access_token"]), 404)[0] == "NOT_FOUND"
    assert rest_error(sf.query(token["access_token"], "SELECT Id FROM UserPermissionAccess", version), 404)[0] == (
        "NOT_FOUND"
    )


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_on_rest_resources_are_json_errors(sf: Salesforce, method: str) -> None:
    for path in ("/services/data/", "/services/data/v62.0/", "/services/data/v62.0/query"):
        response = getattr(sf.client, method)(sf.url(path))
        code, message = rest_error(response, 405)
        assert code == "METHOD_NOT_ALLOWED" and method.upper() in message


def test_a_post_to_an_unknown_rest_path_is_a_json_not_found_not_a_csrf_page(sf: Salesforce) -> None:
    response = sf.client.post(sf.url("/services/data/v62.0/sobjects/Task"), {"Subject": "Call"})

    assert rest_error(response, 404)[0] == "NOT_FOUND"
