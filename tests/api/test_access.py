"""How the API authenticates and refuses: bad keys, missing scopes, messages, and every error in JSON.

Who may call what is in the portal's permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import Client, RequestFactory
from ninja.errors import HttpError

from api import endpoints
from api.auth import PortalSessionAuth
from api.services import api_key_revoke
from tests.api.conftest import bearer
from tests.conftest import logged_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OWN = "/api/v1/accounts/acme/salesforce-link"
FOREIGN = "/api/v1/accounts/globex/salesforce-link"
MISSING = "/api/v1/accounts/no-such-account/salesforce-link"
LIST = "/api/v1/salesforce-links"
API_USER = "/api/v1/api-users/00D5g000004ABCD/0055g00000AbCdE"


@pytest.fixture
def bad_keys(read_key) -> dict[str, Client]:
    revoked = bearer(read_key)
    api_key_revoke(name_or_prefix=read_key.api_key.name)
    return {"revoked": revoked, "malformed": Client(headers={"Authorization": "Bearer vcc_not-a-key"})}


@pytest.mark.parametrize("endpoint", [OWN, FOREIGN, MISSING, LIST, API_USER])
@pytest.mark.parametrize("key", ["revoked", "malformed"])
def test_a_revoked_or_malformed_key_is_a_401_whatever_it_asks(linked, other_account, bad_keys, key, endpoint):
    response = bad_keys[key].get(endpoint)
    assert response.status_code == 401
    assert response.json() == {"detail": "The API key is not valid or has been revoked."}


def test_a_missing_account_is_a_404_that_says_so(read_client):
    response = read_client.get(MISSING)
    assert (response.status_code, response.json()) == (404, {"detail": "No such account."})


def test_401_says_how_to_authenticate(client):
    response = client.get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="VCC CRM Admin API"'
    assert "Authorization: Bearer" in response.json()["detail"]


def test_401_for_a_bad_key_is_an_invalid_token(read_key):
    response = Client(headers={"Authorization": f"Bearer {read_key.raw_key}x"}).get(LIST)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json() == {"detail": "The API key is not valid or has been revoked."}


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc", "vcc_abc"])
def test_a_header_that_is_not_a_bearer_key_is_refused(db, header):
    response = Client(headers={"Authorization": header}).get(LIST)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_bad_key_is_refused_even_with_a_support_session(support_user):
    client = logged_in(support_user)
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer vcc_000000000000_" + "x" * 43
    assert client.get(LIST).status_code == 401


def test_403_for_a_missing_scope_names_it(token_key):
    response = bearer(token_key).get(LIST)
    assert response.status_code == 403
    assert response.json() == {"detail": "This API key does not have the 'read' scope this operation needs."}
    assert 'error="insufficient_scope", scope="read"' in response["WWW-Authenticate"]


def test_a_role_without_crm_admin_is_told_so(db):
    response = logged_in(UserFactory(username="agent")).get(OWN)
    assert response.json() == {"detail": "Your portal role does not include CRM Admin."}


def test_the_directory_refusal_says_who_may_list(admin_client_):
    assert admin_client_.get(LIST).json() == {"detail": "Only support staff and service keys see every account's link."}


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"status": "broken"}, "query.status"),
        ({"org_type": "staging"}, "query.org_type"),
        ({"needs_attention": "perhaps"}, "query.needs_attention"),
        ({"sort": "password"}, "query.sort"),
        ({"limit": "0"}, "query.limit"),
        ({"limit": "201"}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"q": "x" * 201}, "query.q"),
        ({"q": "a\x00b"}, "query.q"),
    ],
)
def test_a_bad_filter_is_a_422_naming_the_parameter(read_client, params, location):
    response = read_client.get(LIST, params)
    assert response.status_code == 422
    body = response.json()
    assert [error["location"] for error in body["errors"]] == [location]
    assert body["detail"].startswith(f"Invalid request: {location}: ")


@pytest.mark.parametrize("cursor", ["garbage", "e30", "eyJkIjoiYWZ0ZXIiLCJrIjpbMV19"])
def test_a_bad_cursor_is_a_400(read_client, cursor):
    response = read_client.get(LIST, {"cursor": cursor})
    assert response.status_code == 400
    assert response.json() == {"detail": endpoints.BAD_CURSOR}


def test_a_cursor_of_another_sort_is_a_400(read_client, population):
    cursor = read_client.get(LIST, {"limit": 2}).json()["next_cursor"]
    assert read_client.get(LIST, {"limit": 2, "sort": "linked_at", "cursor": cursor}).status_code == 400


@pytest.mark.parametrize(
    ("org_id", "user_id", "location", "message"),
    [
        ("00D5g000004ABC", "0055g00000AbCdE", "path.org_id", "String should match pattern"),  # 14 characters
        ("0055g00000AbCdE", "0055g00000AbCdE", "path.org_id", "String should match pattern"),  # a user id
        ("00D5g000004ABCD", "00D5g000004ABCD", "path.user_id", "String should match pattern"),
        ("00D5g000004ABCDXXX", "0055g00000AbCdE", "path.org_id", "checksum does not match"),
        ("00D5g000004ABCD", "0055g00000AbCdE999", "path.user_id", "checksum does not match"),
    ],
)
def test_an_id_that_is_not_one_is_a_422(read_client, org_id, user_id, location, message):
    response = read_client.get(f"/api/v1/api-users/{org_id}/{user_id}")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["location"] == location and message in error["message"]


def test_an_unknown_api_user_is_a_404(read_client):
    response = read_client.get(API_USER)
    assert (response.status_code, response.json()) == (404, {"detail": "No such API user."})


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", [OWN, LIST, API_USER])
def test_an_unsafe_method_is_a_json_405(read_client, linked, method, url):
    response = getattr(read_client, method)(url)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {"detail": f"Method {method.upper()} is not allowed here; use GET."}


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/nothing", "/api/v1/salesforce-links/", "/api/v1/accounts/acme"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_path_under_the_api_is_a_json_404(db, path, method):
    response = getattr(Client(enforce_csrf_checks=True), method)(path)  # a POST meets no HTML CSRF page either
    assert response.status_code == 404
    assert response.json()["detail"].startswith(f"No API endpoint at {path}.")


def test_an_unexpected_error_is_a_json_500_and_is_logged(read_client, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(endpoints, "account_with_link", explode)
    response = read_client.get(OWN)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert "boom" in caplog.text


def test_a_404_raised_inside_an_endpoint_keeps_its_message(read_client, monkeypatch):
    def missing(**kwargs):
        raise Http404

    monkeypatch.setattr(endpoints, "account_with_link", missing)
    assert read_client.get(OWN).json() == {"detail": "Not found."}


def test_the_session_needs_a_csrf_token_on_unsafe_methods(support_user):
    """The session scheme checks CSRF for unsafe methods (Bearer keys need none: no ambient credential)."""
    auth = PortalSessionAuth()
    request = RequestFactory().post("/api/v1/anything")
    request.user = support_user
    request.COOKIES["sessionid"] = "session"
    with pytest.raises(HttpError) as refused:
        auth(request)
    assert refused.value.status_code == 403
    safe = RequestFactory().get("/api/v1/anything")
    safe.user = support_user
    assert auth(safe) == support_user
