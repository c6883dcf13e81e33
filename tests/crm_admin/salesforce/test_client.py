"""The Salesforce HTTP client against faults the emulator cannot make (``responses``); the happy paths
run against the emulator in tests/crm_admin/integration."""

from __future__ import annotations

import pytest
import requests
import responses

from crm_admin import exceptions
from crm_admin.salesforce import SalesforceClient, ids
from crm_admin.salesforce.client import expected_signature

LOGIN = "https://login.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
ORG = ids.to_18("00D000000000001")
USER = ids.to_18("005000000000001")
ID_URL = f"{LOGIN}/id/{ORG}/{USER}"
SECRET = "consumer-secret"


@pytest.fixture
def client() -> SalesforceClient:
    return SalesforceClient(
        login_url=LOGIN,
        client_id="consumer-key",
        client_secret=SECRET,
        redirect_uri="https://vcc.example.com/crm-admin/salesforce/callback/",
        api_version="62.0",
        timeout=(5.0, 15.0),
    )


def token_body(**overrides) -> dict:
    body = {
        "access_token": "00D000000000001!access",
        "refresh_token": "refresh-secret",
        "instance_url": "https://acme.my.salesforce.com",
        "id": ID_URL,
        "token_type": "Bearer",
        "issued_at": "1764000000000",
        "scope": "api refresh_token id",
    }
    body.update(overrides)
    body.setdefault(
        "signature", expected_signature(client_secret=SECRET, id_url=body["id"], issued_at=body["issued_at"])
    )
    return body


@responses.activate
def test_exchange_posts_code_verifier_and_client_credentials_with_timeouts(client):
    responses.post(TOKEN_URL, json=token_body())
    token = client.exchange_code(code="the-code", code_verifier="v" * 64)
    assert token.refresh_token == "refresh-secret"
    sent = responses.calls[0].request
    form = dict(pair.split("=", 1) for pair in sent.body.split("&"))
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code" and form["code_verifier"] == "v" * 64
    assert form["client_id"] == "consumer-key" and form["client_secret"] == SECRET
    assert "refresh-secret" not in repr(token) and "access" not in repr(token)


def test_every_call_has_a_connect_and_read_timeout(client, monkeypatch):
    seen = []

    def fake_request(self, method, url, **kwargs):
        seen.append(kwargs.get("timeout"))
        raise requests.Timeout()

    monkeypatch.setattr(requests.Session, "request", fake_request)
    for call in (
        lambda: client.exchange_code(code="c", code_verifier="v" * 43),
        lambda: client.refresh(refresh_token="r"),
        lambda: client.revoke(token="t"),
        lambda: client.identity(id_url=ID_URL, access_token="a"),
        lambda: client.user_permissions(instance_url="https://acme.my.salesforce.com", access_token="a", fields=["X"]),
    ):
        with pytest.raises(exceptions.SalesforceUnavailableError):
            call()
    assert seen == [(5.0, 15.0)] * 5


@responses.activate
def test_signature_mismatch_is_rejected(client):
    responses.post(TOKEN_URL, json=token_body(signature="bm90LXRoZS1zaWduYXR1cmU="))
    with pytest.raises(exceptions.SalesforceResponseInvalidError) as raised:
        client.exchange_code(code="c", code_verifier="v" * 43)
    assert raised.value.orphan_token == "refresh-secret"  # the caller revokes the grant it will not use
    assert "refresh-secret" not in str(raised.value) and "refresh-secret" not in repr(raised.value)


@pytest.mark.parametrize(
    "field",
    [
        {"instance_url": "https://evil.example"},
        {"instance_url": "http://acme.my.salesforce.com"},
        {"id": "https://evil.example/id/x/y"},
        {"instance_url": "https://salesforce.com.evil.example"},
    ],
)
@responses.activate
def test_untrusted_hosts_in_the_token_response_are_rejected(client, field):
    responses.post(TOKEN_URL, json=token_body(**field))
    with pytest.raises(exceptions.SalesforceResponseInvalidError):
        client.exchange_code(code="c", code_verifier="v" * 43)


@pytest.mark.parametrize("missing", ["access_token", "instance_url", "id", "issued_at", "signature"])
@responses.activate
def test_missing_fields_are_rejected(client, missing):
    body = token_body()
    del body[missing]
    responses.post(TOKEN_URL, json=body)
    with pytest.raises(exceptions.SalesforceResponseInvalidError):
        client.exchange_code(code="c", code_verifier="v" * 43)


@responses.activate
def test_no_refresh_token_means_no_offline_access(client):
    body = token_body()
    del body["refresh_token"]
    responses.post(TOKEN_URL, json=body)
    with pytest.raises(exceptions.SalesforceResponseInvalidError) as raised:
        client.exchange_code(code="c", code_verifier="v" * 43)
    assert "refresh_token" in raised.value.user_message


@responses.activate
def test_a_redirect_on_the_token_post_is_not_followed(client):
    responses.post(TOKEN_URL, status=307, headers={"Location": "https://evil.example/steal"})
    responses.post("https://evil.example/steal", json=token_body())
    with pytest.raises(exceptions.SalesforceUnavailableError):
        client.exchange_code(code="c", code_verifier="v" * 43)
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "expired authorization code"},
            exceptions.SalesforceOAuthError,
        ),
        (
            401,
            {"error": "invalid_client", "error_description": "invalid client credentials"},
            exceptions.SalesforceOAuthError,
        ),
        (
            400,
            {"error": "rate_limit_exceeded", "error_description": "rate limit"},
            exceptions.SalesforceOAuthError,
        ),
        (503, "<html>down</html>", exceptions.SalesforceUnavailableError),
        (200, "{not json", exceptions.SalesforceUnavailableError),
    ],
)
@responses.activate
def test_token_errors_map_to_named_errors(client, status, body, error):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.post(TOKEN_URL, status=status, **kwargs)
    with pytest.raises(error):
        client.exchange_code(code="c", code_verifier="v" * 43)


@responses.activate
def test_refresh_invalid_grant_is_reported_as_such(client):
    responses.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "expired access/refresh token"},
    )
    with pytest.raises(exceptions.SalesforceOAuthError) as raised:
        client.refresh(refresh_token="r")
    assert raised.value.error == "invalid_grant"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, "", None),
        (200, {}, None),
        (200, '{"access_token": "00D', exceptions.SalesforceUnavailableError),
        (200, "<html>Maintenance</html>", exceptions.SalesforceUnavailableError),
        (400, {"error": "invalid_token", "error_description": "invalid token"}, None),
        (400, {"error": "unsupported_token_type"}, exceptions.SalesforceUnavailableError),
        (500, "oops", exceptions.SalesforceUnavailableError),
    ],
)
@responses.activate
def test_revoke_outcomes(client, status, body, error):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.post(f"{LOGIN}/services/oauth2/revoke", status=status, **kwargs)
    if error is None:
        client.revoke(token="t")
    else:
        with pytest.raises(error):
            client.revoke(token="t")
    assert responses.calls[0].request.body == "token=t"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            401,
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
            exceptions.SalesforceSessionInvalidError,
        ),
        (
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
            exceptions.SalesforceRateLimitedError,
        ),
        (
            403,
            [
                {
                    "message": "The REST API is not enabled for this Organization.",
                    "errorCode": "API_DISABLED_FOR_ORG",
                }
            ],
            exceptions.SalesforceApiDisabledError,
        ),
        (400, [{"message": "No such column", "errorCode": "INVALID_FIELD"}], exceptions.LinkError),
        (500, "x", exceptions.SalesforceUnavailableError),
    ],
)
@responses.activate
def test_rest_errors_map_to_named_errors(client, status, body, error):
    kwargs = {"json": body} if isinstance(body, list) else {"body": body}
    responses.get("https://acme.my.salesforce.com/services/data/v62.0/query", status=status, **kwargs)
    with pytest.raises(error):
        client.user_permissions(
            instance_url="https://acme.my.salesforce.com", access_token="a", fields=["PermissionsApiEnabled"]
        )


@responses.activate
def test_permission_query_is_soql_on_user_permission_access(client):
    responses.get(
        "https://acme.my.salesforce.com/services/data/v62.0/query",
        json={
            "totalSize": 1,
            "done": True,
            "records": [{"PermissionsApiEnabled": True, "PermissionsEditTask": False}],
        },
    )
    granted = client.user_permissions(
        instance_url="https://acme.my.salesforce.com",
        access_token="a",
        fields=["PermissionsApiEnabled", "PermissionsEditTask"],
    )
    assert granted == {"PermissionsApiEnabled": True, "PermissionsEditTask": False}
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Bearer a"
    assert "SELECT+PermissionsApiEnabled%2C+PermissionsEditTask+FROM+UserPermissionAccess" in request.url


@pytest.mark.parametrize(
    "body",
    [
        {"organization_id": "00Dbad", "user_id": USER, "username": "u"},
        {"organization_id": USER, "user_id": ORG, "username": "u"},
        {"user_id": USER, "username": "u"},
    ],
)
@responses.activate
def test_identity_with_bad_ids_is_rejected(client, body):
    responses.get(ID_URL, json=body)
    with pytest.raises(exceptions.SalesforceResponseInvalidError):
        client.identity(id_url=ID_URL, access_token="a")


@responses.activate
def test_identity_normalises_15_character_ids(client):
    responses.get(ID_URL, json={"organization_id": ORG[:15], "user_id": USER, "username": "api@x.com", "active": True})
    identity = client.identity(id_url=ID_URL, access_token="a")
    assert identity.org_id == ORG and identity.active is True


def test_trusted_urls(client):
    assert client.is_trusted_url("https://acme.my.salesforce.com/x")
    assert client.is_trusted_url("https://login.salesforce.com/id/a/b")
    assert client.is_trusted_url("https://acme--uat.sandbox.my.salesforce.com")
    assert not client.is_trusted_url("https://evilsalesforce.com")
    assert not client.is_trusted_url("https://login.salesforce.com.evil.example/")
    assert not client.is_trusted_url("javascript:alert(1)")
