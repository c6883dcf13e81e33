"""The OpenAPI schema: valid OpenAPI 3, every endpoint present with its errors, auth and examples; the docs
page served from our own static files."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest
import schemathesis

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/v1/accounts/{slug}/salesforce-link", "get"): {"200", "401", "403", "404"},
    ("/api/v1/salesforce-links", "get"): {"200", "400", "401", "403", "422"},
    ("/api/v1/api-users/{org_id}/{user_id}", "get"): {"200", "401", "403", "404", "422"},
    ("/api/v1/accounts/{slug}/salesforce-link/access-token", "post"): {"200", "401", "403", "404", "409", "503"},
}
#: Only services get access tokens: a portal session never does.
KEY_ONLY = {("/api/v1/accounts/{slug}/salesforce-link/access-token", "post")}


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/v1/openapi.json")  # public: it describes the API, it holds no data
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3(openapi):
    assert openapi["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(openapi).validate()  # the official OpenAPI 3.1 meta-schema


def test_an_invalid_schema_would_be_caught(openapi):
    openapi["paths"]["/api/v1/salesforce-links"]["get"]["parameters"][0]["examples"] = ["broken"]
    with pytest.raises(jsonschema_rs.ValidationError, match="broken"):
        schemathesis.openapi.from_dict(openapi).validate()


def test_every_endpoint_is_described_with_its_errors(openapi):
    described = {
        (path, method): set(operation["responses"])
        for path, methods in openapi["paths"].items()
        for method, operation in methods.items()
    }
    assert described == OPERATIONS
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            assert operation["summary"] and operation["description"], path
            if (path, method) in KEY_ONLY:
                assert operation["security"] == [{"ServiceKeyAuth": []}]
            else:
                assert operation["security"] == [{"ServiceKeyAuth": []}, {"PortalSessionAuth": []}]
            for status, response in operation["responses"].items():
                schema = response["content"]["application/json"]["schema"]["$ref"]
                if status != "200":
                    assert schema in ("#/components/schemas/Error", "#/components/schemas/ValidationFailure")


def test_the_security_schemes_say_how_to_authenticate(openapi):
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["ServiceKeyAuth"]["type"] == "http" and schemes["ServiceKeyAuth"]["scheme"] == "bearer"
    assert schemes["ServiceKeyAuth"]["bearerFormat"] == "vcc_<prefix>_<secret>"
    assert "api_key create" in schemes["ServiceKeyAuth"]["description"]
    assert schemes["PortalSessionAuth"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "sessionid",
        "description": "The portal's session cookie, after logging in at /login/.",
    }


@pytest.mark.parametrize(
    "name", ["LinkDetail", "LinkSummary", "LinkPage", "ApiUserDetail", "ApiUserRef", "Health", "LinkEvent", "Error"]
)
def test_response_schemas_describe_their_fields(openapi, name):
    schema = openapi["components"]["schemas"][name]
    for field, definition in schema["properties"].items():
        described = definition.get("description") or "$ref" in definition or "items" in definition
        assert described, f"{name}.{field}"


def test_fields_carry_examples(openapi):
    schemas = openapi["components"]["schemas"]
    assert schemas["ApiUserRef"]["properties"]["org_id"]["examples"] == ["00D5g000004ABCDEA4"]
    assert schemas["LinkSummary"]["properties"]["status"]["examples"] == ["linked"]
    assert schemas["LinkStatus"]["enum"] == ["unlinked", "linked", "legacy"]


def test_the_list_parameters_are_typed(openapi):
    parameters = {p["name"]: p for p in openapi["paths"]["/api/v1/salesforce-links"]["get"]["parameters"]}
    assert set(parameters) == {"status", "org_type", "needs_attention", "q", "sort", "cursor", "limit"}
    assert parameters["limit"]["schema"].items() >= {"minimum": 1, "maximum": 200, "default": 50}.items()
    assert parameters["q"]["example"] == "acme"
    sort = parameters["sort"]["schema"]["allOf"][0]
    assert {"account", "-account", "linked_at", "-linked_at"} <= set(sort["enum"])


def test_the_docs_page_loads_swagger_ui_from_our_static_files_without_inline_script(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts, html
    for attributes in scripts:
        assert 'src="/static/ninja/' in attributes or 'type="application/json"' in attributes, attributes
    assert "cdn" not in html.lower()
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_docs_and_schema_answer_only_reads(client):
    for url in ("/api/v1/docs", "/api/v1/openapi.json"):
        response = client.post(url)
        assert response.status_code == 405
        assert response.json()["detail"] == "Method POST is not allowed here; use GET, HEAD."
