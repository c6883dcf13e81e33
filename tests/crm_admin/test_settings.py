"""Production configuration fails closed (checklist C3, C4, E4).

Each case runs ``manage.py`` (or imports the WSGI entry point) in a subprocess whose environment is built
from scratch, so neither the test settings nor the developer's shell leak in.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REQUIRED = [
    "SECRET_KEY",
    "SITE_URL",
    "TOKEN_ENCRYPTION_KEYS",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_CLIENT_SECRET",
]


@pytest.fixture(scope="session")
def fernet_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def production_env(fernet_key) -> dict[str, str]:
    """A complete production-like environment."""
    return {
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": "https://vcc.example.com",
        "ALLOWED_HOSTS": "vcc.example.com",
        "TOKEN_ENCRYPTION_KEYS": fernet_key,
        "SALESFORCE_CLIENT_ID": "3MVG9productionConsumerKeyForTests",
        "SALESFORCE_CLIENT_SECRET": secrets.token_hex(32),
        "SALESFORCE_EMULATOR": "False",  # whatever a developer's .env says
    }


def run_python(args: list[str], variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "vcc_portal.settings",
        **variables,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def manage(variables: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_python(["manage.py", *args], variables)


def dotenv_names() -> set[str]:
    """Variables a developer's ``.env`` supplies: settings read it, so they can't be missing there."""
    dotenv = PROJECT_ROOT / ".env"
    if not dotenv.is_file():
        return set()
    lines = (line.strip().removeprefix("export ") for line in dotenv.read_text().splitlines())
    return {line.split("=", 1)[0].strip() for line in lines if "=" in line and not line.startswith("#")}


def without(env: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in env.items() if key != name}


def test_complete_production_environment_passes_the_checks(production_env):
    result = manage(production_env, "check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", REQUIRED)
def test_missing_required_variable_stops_start_up_and_names_it(production_env, name):
    if name in dotenv_names():
        pytest.skip(f"{name} is set in .env")
    result = manage(without(production_env, name), "check")
    assert result.returncode != 0
    assert re.search(rf"\b{name}\b", result.stderr), result.stderr


@pytest.mark.parametrize("position", ["only", "second"])
def test_malformed_fernet_key_is_a_check_error(production_env, fernet_key, position):
    keys = "not-a-fernet-key" if position == "only" else f"{fernet_key},not-a-fernet-key"
    result = manage({**production_env, "TOKEN_ENCRYPTION_KEYS": keys}, "check")
    assert result.returncode != 0
    assert "crm_admin.E002" in result.stderr


def test_plain_http_salesforce_login_url_is_refused_without_debug(production_env):
    env = {**production_env, "SALESFORCE_PRODUCTION_LOGIN_URL": "http://login.salesforce.com"}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "crm_admin.E003" in result.stderr
    assert "SALESFORCE_PRODUCTION_LOGIN_URL" in result.stderr


def test_emulator_is_refused_without_debug(production_env):
    result = manage({**production_env, "SALESFORCE_EMULATOR": "on"}, "check")
    assert result.returncode != 0
    assert "emulator" in (result.stdout + result.stderr).lower()


WSGI_IMPORT = """
import sys
from django.core.exceptions import ImproperlyConfigured
try:
    import vcc_portal.wsgi
except ImproperlyConfigured as error:
    print("ImproperlyConfigured:", error)
    sys.exit(3)
"""


def test_wsgi_start_up_raises_improperly_configured_naming_the_missing_variable(production_env):
    if "TOKEN_ENCRYPTION_KEYS" in dotenv_names():
        pytest.skip("TOKEN_ENCRYPTION_KEYS is set in .env")
    result = run_python(["-c", WSGI_IMPORT], without(production_env, "TOKEN_ENCRYPTION_KEYS"))
    assert result.returncode == 3, result.stderr
    assert "ImproperlyConfigured:" in result.stdout
    assert "TOKEN_ENCRYPTION_KEYS" in result.stdout


COOKIE_SETTINGS = """
import json
import vcc_portal.wsgi
from django.conf import settings
print(json.dumps({
    name: getattr(settings, name)
    for name in [
        "DEBUG",
        "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_PATH", "SESSION_COOKIE_DOMAIN",
        "CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "CSRF_COOKIE_PATH",
        "CSRF_COOKIE_DOMAIN", "CSRF_COOKIE_HTTPONLY",
    ]
}))
"""


def test_production_cookies_are_host_prefixed_secure_and_lax(production_env):
    result = run_python(["-c", COOKIE_SETTINGS], production_env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    for prefix in ("SESSION", "CSRF"):
        assert values[f"{prefix}_COOKIE_NAME"].startswith("__Host-")
        assert values[f"{prefix}_COOKIE_SECURE"] is True
        assert values[f"{prefix}_COOKIE_SAMESITE"] == "Lax"
        # A __Host- cookie is dropped by browsers unless it has Path=/ and no Domain.
        assert values[f"{prefix}_COOKIE_PATH"] == "/"
        assert values[f"{prefix}_COOKIE_DOMAIN"] is None
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_HTTPONLY"] is True


def test_deploy_checks_pass_with_a_production_environment(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("override", "warning"),
    [({"SECURE_HSTS_SECONDS": "0"}, "security.W004"), ({"SECRET_KEY": "too-short"}, "security.W009")],
)
def test_deploy_checks_catch_a_weakened_production_environment(production_env, override, warning):
    result = manage({**production_env, **override}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert warning in result.stderr


def test_seed_demo_refuses_a_production_environment(production_env, tmp_path):
    """Issue 11 item 3: with DEBUG off, ``manage.py seed_demo`` stops before touching the database."""
    database = tmp_path / "production.sqlite3"
    result = manage({**production_env, "DATABASE_URL": f"sqlite:///{database}"}, "seed_demo")
    assert result.returncode != 0
    assert "DEBUG is off" in result.stderr
    assert not database.exists()
