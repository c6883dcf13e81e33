"""Schemathesis fuzzes the API from its own OpenAPI schema, in process over WSGI, with a read key.

Every generated request (examples, coverage of each parameter's edges, then random positive and negative
data) must get no 5xx, a status code and body the schema documents, JSON as declared, a 405 for an
undeclared method, and a 401 when the key is left out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db

#: Random cases per operation: enough to reach every parameter and its edges, few enough that the
#: whole file runs in about 10-20 seconds per database.
MAX_EXAMPLES = 100


#: Two refusals of schema-valid input are by design, so the "valid data is accepted" check allows them:
#: a cursor is opaque (a well-formed string we did not make is a 400), and an 18-character Salesforce id's
#: checksum cannot be written as a pattern (a wrong one is a 422). Both are documented responses.
CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-path": path,
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", refusal]}},
            }
            for path, refusal in (
                ("/api/v1/salesforce-links", "400"),
                ("/api/v1/api-users/{org_id}/{user_id}", "422"),
            )
        ]
    }
)

#: The schema as the application serves it; requests go to the same WSGI application, in process.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), config=CONFIG)


@pytest.fixture
def open_connection() -> Iterator[None]:
    """Keep the test's database connection open between requests, as Django's test client does (the end of
    each request would otherwise close it, and the test's transaction with it)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_honours_its_schema(case, open_connection, read_key, population, api_user):
    """Data stands behind the schema's examples: slug 'acme', the example API user."""
    case.call_and_validate(headers={"Authorization": f"Bearer {read_key.raw_key}"})


def test_the_fuzzed_operations_answer_real_data(read_key, population, api_user):
    """The examples the fuzzer starts from reach real rows, so 200 bodies are checked, not only errors."""
    client = bearer(read_key)
    assert client.get("/api/v1/accounts/acme/salesforce-link").json()["status"] == "linked"
    assert client.get(f"/api/v1/api-users/{api_user.org_id}/{api_user.user_id}").json()["accounts"]
