"""The revoke endpoint (reference §6): refresh tokens take their access tokens with them."""

from __future__ import annotations

from tests.salesforce_emulator.driver import Salesforce

QUERY = "SELECT PermissionsApiEnabled FROM UserPermissionAccess"


def test_revoking_a_refresh_token_revokes_its_access_tokens(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")
    refreshed = sf.refresh(first["refresh_token"]).json()

    response = sf.revoke(first["refresh_token"])

    assert response.status_code == 200
    assert response.content == b""
    assert sf.query(first["access_token"], QUERY).status_code == 401
    assert sf.query(refreshed["access_token"], QUERY).status_code == 401
    assert sf.refresh(first["refresh_token"]).status_code == 400


def test_revoking_an_access_token_revokes_only_it(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")
    refreshed = sf.refresh(first["refresh_token"]).json()

    assert sf.revoke(first["access_token"]).status_code == 200

    assert sf.query(first["access_token"], QUERY).status_code == 401
    assert sf.query(refreshed["access_token"], QUERY).status_code == 200
    assert sf.refresh(first["refresh_token"]).status_code == 200


def test_revoking_leaves_other_approvals_alone(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")
    second = sf.tokens_for("api@acme.example")

    sf.revoke(first["refresh_token"])

    assert sf.refresh(second["refresh_token"]).status_code == 200


def test_unknown_token_is_invalid_token(sf: Salesforce) -> None:
    response = sf.revoke("00Dforged!token")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_token"
    assert response.json()["error_description"]


def test_revoking_twice_is_invalid_token(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")
    sf.revoke(first["refresh_token"])

    assert sf.revoke(first["refresh_token"]).json()["error"] == "invalid_token"
    assert sf.revoke(first["access_token"]).json()["error"] == "invalid_token"


def test_missing_token_is_unsupported_token_type(sf: Salesforce) -> None:
    response = sf.client.post(sf.url("/services/oauth2/revoke"))

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_token_type"


def test_revoke_by_get(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")

    assert sf.client.get(sf.url("/services/oauth2/revoke"), {"token": first["refresh_token"]}).status_code == 200
    assert sf.refresh(first["refresh_token"]).status_code == 400


def test_token_of_production_cannot_be_revoked_on_sandbox(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")

    assert sf.on("sandbox").revoke(first["refresh_token"]).status_code == 400
    assert sf.refresh(first["refresh_token"]).status_code == 200
