"""The identity URL and UserInfo (reference §7): the token's own user, or 403 ``Bad_OAuth_Token``."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from salesforce_emulator.models import SalesforceUser
from tests.salesforce_emulator.driver import Salesforce

IDENTITY_FIELDS = {
    "id",
    "asserted_user",
    "user_id",
    "organization_id",
    "username",
    "nick_name",
    "display_name",
    "email",
    "email_verified",
    "first_name",
    "last_name",
    "timezone",
    "photos",
    "status",
    "urls",
    "active",
    "user_type",
    "language",
    "locale",
    "utcOffset",
    "last_modified_date",
    "is_app_installed",
}
USERINFO_FIELDS = {
    "sub",
    "user_id",
    "organization_id",
    "preferred_username",
    "nickname",
    "name",
    "email",
    "email_verified",
    "given_name",
    "family_name",
    "zoneinfo",
    "photos",
    "profile",
    "picture",
    "address",
    "is_salesforce_integration_user",
    "urls",
    "active",
    "user_type",
    "language",
    "locale",
    "utcOffset",
    "updated_at",
    "is_app_installed",
}


def identity_path(token: dict[str, str]) -> str:
    return token["id"].removeprefix("http://testserver/_emulator/salesforce/production")


def assert_bad_token(response) -> None:
    assert response.status_code == 403
    assert response.content == b"Bad_OAuth_Token"
    assert response["Content-Type"].startswith("text/plain")


def test_identity_url_answers_the_documented_fields(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")
    user = SalesforceUser.objects.get(username="api@acme.example")

    response = sf.get(identity_path(token), token["access_token"])

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= IDENTITY_FIELDS
    assert body["id"] == token["id"]
    assert body["user_id"] == user.id
    assert body["organization_id"] == user.organization_id
    assert len(body["user_id"]) == len(body["organization_id"]) == 18
    assert body["username"] == "api@acme.example"
    assert body["display_name"] == "Avery Api"
    assert body["active"] is True
    assert body["user_type"] == "STANDARD"
    assert body["utcOffset"] in {-28800000, -25200000}  # America/Los_Angeles, with or without DST
    base = token["instance_url"]
    assert body["urls"]["rest"] == f"{base}/services/data/v{{version}}/"
    assert body["urls"]["query"] == f"{base}/services/data/v{{version}}/query/"
    assert body["urls"]["enterprise"] == f"{base}/services/Soap/c/{{version}}/{user.organization_id[:15]}"
    assert {"metadata", "partner", "sobjects"} <= set(body["urls"])


def test_identity_url_fills_in_the_version(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    body = sf.get(identity_path(token), token["access_token"], version="62.0").json()

    assert body["urls"]["rest"].endswith("/services/data/v62.0/")


def test_identity_url_accepts_15_character_ids(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")
    org_id, user_id = token["id"].split("/")[-2:]

    assert sf.get(f"/id/{org_id[:15]}/{user_id[:15]}", token["access_token"]).status_code == 200


def test_identity_url_accepts_oauth_token_parameter(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    assert sf.get(identity_path(token), oauth_token=token["access_token"]).status_code == 200


@pytest.mark.parametrize("access_token", [None, "00Dforged!token"])
def test_identity_url_refuses_missing_or_unknown_token(sf: Salesforce, access_token: str | None) -> None:
    token = sf.tokens_for("api@acme.example")

    assert_bad_token(sf.get(identity_path(token), access_token))


def test_identity_url_refuses_revoked_token(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")
    sf.revoke(token["access_token"])

    assert_bad_token(sf.get(identity_path(token), token["access_token"]))


def test_identity_url_refuses_token_past_the_session_timeout(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    with time_machine.travel(timezone.now() + timedelta(hours=2, seconds=1)):
        assert_bad_token(sf.get(identity_path(token), token["access_token"]))


def test_identity_url_of_another_user_is_refused(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")
    other = sf.tokens_for("api2@acme.example")

    assert_bad_token(sf.get(identity_path(other), token["access_token"]))


def test_identity_url_refuses_token_without_id_scope(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example", scope="api refresh_token")

    assert_bad_token(sf.get(identity_path(token), token["access_token"]))


def test_identity_url_refuses_token_of_the_other_host(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    assert_bad_token(sf.on("sandbox").get(identity_path(token), token["access_token"]))


def test_userinfo_answers_openid_fields(sf: Salesforce) -> None:
    token = sf.tokens_for("api@acme.example")

    response = sf.get("/services/oauth2/userinfo", token["access_token"])

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= USERINFO_FIELDS
    assert body["sub"] == token["id"]
    assert body["preferred_username"] == "api@acme.example"
    assert body["given_name"] == "Avery"
    assert body["family_name"] == "Api"
    assert body["user_type"] == "STANDARD"


def test_userinfo_refuses_bad_token(sf: Salesforce) -> None:
    assert_bad_token(sf.get("/services/oauth2/userinfo", "00Dforged!token"))
