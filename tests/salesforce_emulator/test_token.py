"""The token endpoint: code exchange, PKCE, client authentication, refresh, and the approval limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone

from salesforce_emulator.ids import ORGANIZATION_PREFIX
from salesforce_emulator.models import AccessToken, RefreshToken, SalesforceUser
from salesforce_emulator.tokens import digest
from tests.salesforce_emulator.driver import CALLBACK, SECRET, Salesforce, make_pkce


def error_of(response) -> tuple[str, str]:
    assert response.status_code == 400, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    return body["error"], body["error_description"]


# --- Authorization code grant ----------------------------------------------------------------------


def test_code_exchange_returns_salesforce_fields(sf: Salesforce) -> None:
    response = sf.exchange(sf.grant("api@acme.example"))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "id_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    user = SalesforceUser.objects.get(username="api@acme.example")
    assert body["instance_url"] == "http://testserver/_emulator/salesforce/production"
    assert body["id"] == f"http://testserver/_emulator/salesforce/production/id/{user.organization_id}/{user.id}"
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api refresh_token id openid"
    assert body["issued_at"].isdigit() and len(body["issued_at"]) == 13
    assert body["access_token"].startswith(user.organization_id[:15] + "!")
    assert user.organization_id.startswith(ORGANIZATION_PREFIX)


def test_signature_is_hmac_of_id_and_issued_at_keyed_by_secret(sf: Salesforce) -> None:
    body = sf.tokens_for("api@acme.example")

    expected = hmac.new(SECRET.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256).digest()
    assert body["signature"] == base64.b64encode(expected).decode()


def test_id_token_is_an_unsigned_jwt_about_the_user(sf: Salesforce) -> None:
    body = sf.tokens_for("api@acme.example", nonce="n-0S6")

    header, payload, signature = body["id_token"].split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    assert decode(header) == {"alg": "none", "typ": "JWT"}
    claims = decode(payload)
    assert claims["sub"] == body["id"]
    assert claims["aud"] == "3MVG9emulatorVccCrmAdminConsumerKey"
    assert claims["iss"] == body["instance_url"]
    assert claims["nonce"] == "n-0S6"
    assert signature == ""


def test_no_id_token_without_openid_scope(sf: Salesforce) -> None:
    assert "id_token" not in sf.tokens_for("api@acme.example", scope="api refresh_token id")


@pytest.mark.parametrize("scope", ["api refresh_token", "api offline_access"])
def test_refresh_token_with_refresh_scope_or_its_synonym(sf: Salesforce, scope: str) -> None:
    assert "refresh_token" in sf.tokens_for("api@acme.example", scope=scope)


def test_no_refresh_token_without_refresh_scope(sf: Salesforce) -> None:
    body = sf.tokens_for("api@acme.example", scope="api id")

    assert "refresh_token" not in body
    assert not RefreshToken.objects.exists()


def test_missing_scope_grants_all_of_the_apps_scopes(sf: Salesforce) -> None:
    body = sf.tokens_for("api@acme.example", scope=None)

    assert {"api", "refresh_token", "id", "openid"} <= set(body["scope"].split())


def test_tokens_are_stored_only_as_hashes(sf: Salesforce) -> None:
    body = sf.tokens_for("api@acme.example")

    assert AccessToken.objects.filter(token_hash=digest(body["access_token"])).exists()
    assert RefreshToken.objects.filter(token_hash=digest(body["refresh_token"])).exists()
    stored = json.dumps(list(AccessToken.objects.values()) + list(RefreshToken.objects.values()), default=str)
    assert body["access_token"] not in stored
    assert body["refresh_token"] not in stored


def test_code_reuse_is_invalid_grant_and_revokes_its_tokens(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")
    first = sf.exchange(grant).json()

    assert error_of(sf.exchange(grant)) == ("invalid_grant", "invalid authorization code")
    assert sf.query(first["access_token"], "SELECT PermissionsApiEnabled FROM UserPermissionAccess").status_code == 401
    assert error_of(sf.refresh(first["refresh_token"]))[0] == "invalid_grant"


def test_code_expires_after_fifteen_minutes(sf: Salesforce) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        grant = sf.grant("api@acme.example")
        traveller.shift(timedelta(minutes=15, seconds=1))

        assert error_of(sf.exchange(grant)) == ("invalid_grant", "expired authorization code")


def test_code_is_still_good_just_before_fifteen_minutes(sf: Salesforce) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        grant = sf.grant("api@acme.example")
        traveller.shift(timedelta(minutes=14, seconds=59))

        assert sf.exchange(grant).status_code == 200


def test_unknown_code_is_invalid_grant(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")

    assert error_of(sf.exchange(grant, code="aPrxforged=="))[0] == "invalid_grant"


def test_code_must_be_url_decoded_before_exchange(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")
    still_encoded = grant.code.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")

    assert error_of(sf.exchange(grant, code=still_encoded))[0] == "invalid_grant"


def test_code_from_production_is_unknown_on_sandbox(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")

    assert error_of(sf.on("sandbox").exchange(grant))[0] == "invalid_grant"


def test_redirect_uri_must_equal_the_authorize_one(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")

    error = error_of(sf.exchange(grant, redirect_uri="http://localhost:8000/crm-admin/salesforce/callback/"))
    assert error == ("redirect_uri_mismatch", "redirect_uri must match configuration")


def test_missing_redirect_uri_is_a_mismatch(sf: Salesforce) -> None:
    assert error_of(sf.exchange(sf.grant("api@acme.example"), redirect_uri=None))[0] == "redirect_uri_mismatch"


def test_missing_code_is_invalid_request(sf: Salesforce) -> None:
    assert error_of(sf.exchange(sf.grant("api@acme.example"), code=None))[0] == "invalid_request"


# --- PKCE --------------------------------------------------------------------------------------------


def test_pkce_wrong_verifier_is_invalid_request(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")

    assert error_of(sf.exchange(grant, code_verifier=make_pkce().verifier))[0] == "invalid_request"


def test_pkce_missing_verifier_is_invalid_grant(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")

    assert error_of(sf.exchange(grant, code_verifier=None))[0] == "invalid_grant"


def test_pkce_failure_does_not_burn_the_code(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")
    sf.exchange(grant, code_verifier=make_pkce().verifier)

    assert sf.exchange(grant).status_code == 200


def test_challenge_without_method_means_s256(sf: Salesforce) -> None:
    pkce = make_pkce()
    grant = sf.grant("api@acme.example", pkce=pkce, code_challenge_method=None)

    assert sf.exchange(grant).status_code == 200


def test_verifier_without_challenge_is_invalid_request(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example", code_challenge=None, code_challenge_method=None)

    assert error_of(sf.exchange(grant))[0] == "invalid_request"
    assert sf.exchange(grant, code_verifier=None).status_code == 200


# --- Client authentication ---------------------------------------------------------------------------


def test_http_basic_client_authentication(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")
    basic = base64.b64encode(f"3MVG9emulatorVccCrmAdminConsumerKey:{SECRET}".encode()).decode()

    body = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "redirect_uri": CALLBACK,
        "code_verifier": grant.pkce.verifier,
    }

    response = sf.client.post(
        sf.url("/services/oauth2/token"),
        urlencode(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 200, response.content


def test_wrong_secret_is_invalid_client(sf: Salesforce) -> None:
    error = error_of(sf.exchange(sf.grant("api@acme.example"), client_secret="guess"))

    assert error == ("invalid_client", "invalid client credentials")


def test_missing_secret_is_invalid_client(sf: Salesforce) -> None:
    assert error_of(sf.exchange(sf.grant("api@acme.example"), client_secret=None))[0] == "invalid_client"


def test_unknown_client_is_invalid_client_id(sf: Salesforce) -> None:
    error = error_of(sf.exchange(sf.grant("api@acme.example"), client_id="3MVG9unknown"))

    assert error == ("invalid_client_id", "client identifier invalid")


def test_unsupported_grant_type(sf: Salesforce) -> None:
    response = sf.token(grant_type="password", client_id="3MVG9emulatorVccCrmAdminConsumerKey")

    assert error_of(response)[0] == "unsupported_grant_type"


def test_token_endpoint_refuses_get(sf: Salesforce) -> None:
    assert sf.client.get(sf.url("/services/oauth2/token")).status_code == 405


def test_user_deactivated_after_login_gets_inactive_user(sf: Salesforce) -> None:
    grant = sf.grant("api@acme.example")
    SalesforceUser.objects.filter(username="api@acme.example").update(is_active=False)

    assert error_of(sf.exchange(grant))[0] == "inactive_user"


# --- Refresh token grant -----------------------------------------------------------------------------


def test_refresh_returns_a_new_access_token_and_no_refresh_token(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")

    response = sf.refresh(first["refresh_token"])

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert "refresh_token" not in body
    assert body["access_token"] != first["access_token"]
    assert body["id"] == first["id"]
    assert body["scope"] == first["scope"]
    expected = hmac.new(SECRET.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256).digest()
    assert body["signature"] == base64.b64encode(expected).decode()
    assert sf.query(body["access_token"], "SELECT PermissionsApiEnabled FROM UserPermissionAccess").status_code == 200


def test_refresh_with_unknown_token_is_invalid_grant(sf: Salesforce) -> None:
    assert error_of(sf.refresh("5Aep861forged")) == ("invalid_grant", "expired access/refresh token")


def test_refresh_with_revoked_token_is_invalid_grant(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")
    sf.revoke(first["refresh_token"])

    assert error_of(sf.refresh(first["refresh_token"])) == ("invalid_grant", "expired access/refresh token")


def test_refresh_with_wrong_secret_is_invalid_client(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")

    response = sf.token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id="3MVG9emulatorVccCrmAdminConsumerKey",
        client_secret="guess",
    )

    assert error_of(response)[0] == "invalid_client"


def test_refresh_token_from_production_is_unknown_on_sandbox(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")

    assert error_of(sf.on("sandbox").refresh(first["refresh_token"]))[0] == "invalid_grant"


# --- Five approvals per user per connected app (reference §11) ----------------------------------------


def test_sixth_approval_silently_revokes_the_oldest(sf: Salesforce) -> None:
    grants = [sf.tokens_for("api@acme.example") for _ in range(6)]

    oldest, *newer = grants
    assert error_of(sf.refresh(oldest["refresh_token"])) == ("invalid_grant", "expired access/refresh token")
    assert sf.query(oldest["access_token"], "SELECT Id FROM UserPermissionAccess").status_code == 401
    for grant in newer:
        assert sf.refresh(grant["refresh_token"]).status_code == 200
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 5


def test_approval_limit_counts_per_user(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")
    for _ in range(5):
        sf.tokens_for("api2@acme.example")

    assert sf.refresh(first["refresh_token"]).status_code == 200


def test_grants_without_refresh_token_are_not_approvals(sf: Salesforce) -> None:
    first = sf.tokens_for("api@acme.example")
    for _ in range(5):
        sf.tokens_for("api@acme.example", scope="api id")

    assert sf.refresh(first["refresh_token"]).status_code == 200


def test_seventh_approval_revokes_the_second_oldest(sf: Salesforce) -> None:
    with time_machine.travel(timezone.now(), tick=False):  # equal timestamps: order falls back to creation
        grants = [sf.tokens_for("api@acme.example") for _ in range(7)]

    assert [sf.refresh(grant["refresh_token"]).status_code for grant in grants] == [400, 400, 200, 200, 200, 200, 200]
