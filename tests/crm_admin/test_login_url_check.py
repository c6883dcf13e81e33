"""A plain-HTTP Salesforce login URL: allowed only for a loopback address with DEBUG on (with a warning),
refused at start-up otherwise, whatever DEBUG says (never an InsecureTransportError at click time)."""

from __future__ import annotations

import pytest

from tests.crm_admin.test_settings import (  # noqa: F401  (fernet_key, production_env: fixtures)
    WSGI_IMPORT,
    fernet_key,
    manage,
    production_env,
    run_python,
)

LOOPBACK = "http://127.0.0.1:9"  # the discard port: nothing answers


@pytest.fixture
def debug_env(production_env):  # noqa: F811
    """DEBUG on, emulator off: a developer pointing the portal at a Salesforce stand-in."""
    return {**production_env, "DEBUG": "True", "SITE_URL": "http://127.0.0.1:8000"}


@pytest.mark.parametrize("url", [LOOPBACK, "http://localhost:8443", "http://[::1]:8443"])
def test_loopback_http_with_debug_starts_with_a_warning(debug_env, url):
    result = manage({**debug_env, "SALESFORCE_PRODUCTION_LOGIN_URL": url}, "check")
    assert result.returncode == 0, result.stderr
    assert "crm_admin.W001" in result.stderr and "SALESFORCE_PRODUCTION_LOGIN_URL is plain HTTP" in result.stderr


@pytest.mark.parametrize("url", ["http://sf-stand-in.example.com", "http://10.1.2.3:8443", "ftp://127.0.0.1"])
def test_other_plain_login_urls_are_refused_at_start_up_even_with_debug(debug_env, url):
    result = manage({**debug_env, "SALESFORCE_SANDBOX_LOGIN_URL": url}, "check")
    assert result.returncode != 0
    assert "crm_admin.E003" in result.stderr and "SALESFORCE_SANDBOX_LOGIN_URL must be an https:// URL" in result.stderr


def test_loopback_http_is_refused_at_wsgi_start_up_without_debug(production_env):  # noqa: F811
    result = run_python(["-c", WSGI_IMPORT], {**production_env, "SALESFORCE_PRODUCTION_LOGIN_URL": LOOPBACK})
    assert result.returncode == 3, result.stderr
    assert "SALESFORCE_PRODUCTION_LOGIN_URL must be an https:// URL" in result.stdout


CALL_TOKEN_ENDPOINT = """
import django
django.setup()
from crm_admin.salesforce import SalesforceClient
try:
    SalesforceClient.for_org_type("production").refresh(refresh_token="x")
except Exception as error:
    print(type(error).__name__, getattr(error, "error", ""))
"""


def test_an_allowed_loopback_url_is_really_called_not_refused_by_oauthlib(debug_env):
    """The token request is made (and finds nothing listening) instead of InsecureTransportError."""
    env = {**debug_env, "SALESFORCE_PRODUCTION_LOGIN_URL": LOOPBACK}
    result = run_python(["-c", CALL_TOKEN_ENDPOINT], env)
    assert result.stdout.strip() == "SalesforceUnavailableError", result.stdout + result.stderr
