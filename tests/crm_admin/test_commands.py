"""Operator commands: vcc_account, portal_user, seed_demo, retry_pending_revokes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from crm_admin.models import Account, LinkEvent, LinkStatus, SalesforceLink
from crm_admin.services import links as link_services
from tests.factories import AccountFactory, ApiUserFactory, make_linked

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STRONG_PASSWORD = "Correct-Horse-Battery-9"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- vcc_account --------------------------------------------------------------------------------------------


def test_vcc_account_add_creates_an_unlinked_account():
    output = run("vcc_account", "add", "initech", "--name", "Initech Call Center")
    account = Account.objects.get(slug="initech")
    assert account.name == "Initech Call Center"
    assert SalesforceLink.objects.get(account=account).status == LinkStatus.UNLINKED
    assert "initech" in output


@pytest.mark.parametrize(
    ("slug", "name", "message"),
    [
        ("acme", "Another Acme", "already exists"),
        ("Bad Slug", "Bad", "not a valid slug"),
        ("UPPER", "Upper", "not a valid slug"),
        ("fine-slug", "   ", "must not be empty"),
        ("a" * 64, "Long", "not a valid slug"),
        ("under_score", "Underscore", "not a valid slug"),
        ("ok", "N" * 201, "at most 200 characters"),
    ],
)
def test_vcc_account_add_refuses_bad_input(account, slug, name, message):
    before = Account.objects.count()
    with pytest.raises(CommandError, match=message):
        run("vcc_account", "add", slug, "--name", name)
    assert Account.objects.count() == before
    assert Account.objects.get(slug="acme").name == "Acme Contact Center"


def test_vcc_account_list_shows_each_account_with_its_link():
    make_linked(AccountFactory(slug="acme", name="Acme Contact Center"), ApiUserFactory(username="api@acme.example"))
    legacy = AccountFactory(slug="globex", name="Globex Support")
    link_services.link_mark_legacy(account=legacy, legacy_username="old@globex.example", org_type="sandbox")
    AccountFactory(slug="initech", name="Initech")
    lines = run("vcc_account", "list").splitlines()
    assert lines[0].split() == ["SLUG", "STATUS", "ORG", "TYPE", "API", "USERNAME", "NAME"]
    assert lines[1].split() == ["acme", "Linked", "Production", "api@acme.example", "Acme", "Contact", "Center"]
    assert lines[2].split() == ["globex", "Legacy", "Sandbox", "old@globex.example", "Globex", "Support"]
    assert lines[3].split() == ["initech", "Unlinked", "-", "-", "Initech"]
    assert len(lines) == 4


def test_vcc_account_list_without_accounts():
    assert run("vcc_account", "list").strip() == "No accounts."


# --- portal_user --------------------------------------------------------------------------------------------


@pytest.fixture
def password_env(monkeypatch) -> str:
    monkeypatch.setenv("VCC_TEST_PASSWORD", STRONG_PASSWORD)
    return "VCC_TEST_PASSWORD"


def test_portal_user_add_admin_of_accounts(account, other_account, password_env, client):
    run(
        "portal_user", "add", "jane", "--role", "admin",
        "--account", account.slug, "--account", other_account.slug, "--password-env", password_env,
    )  # fmt: skip
    user = get_user_model().objects.get(username="jane")
    assert user.check_password(STRONG_PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == ["Account admin"]
    assert set(user.vcc_accounts.values_list("slug", flat=True)) == {account.slug, other_account.slug}
    assert user.has_perm("crm_admin.manage_salesforce_link")
    assert client.login(username="jane", password=STRONG_PASSWORD)
    assert client.get(reverse("crm_admin:page", args=[account.slug])).status_code == 200


def test_portal_user_add_support_sees_every_account(account, other_account, password_env, client):
    run("portal_user", "add", "sam", "--role", "support", "--password-env", password_env)
    user = get_user_model().objects.get(username="sam")
    assert list(user.groups.values_list("name", flat=True)) == ["Support"]
    assert not user.vcc_accounts.exists()
    assert not user.has_perm("crm_admin.manage_salesforce_link")
    assert client.login(username="sam", password=STRONG_PASSWORD)
    for each in (account, other_account):
        assert client.get(reverse("crm_admin:page", args=[each.slug])).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["newbie", "--role", "owner", "--account", "acme"], "Unknown role"),
        (["newbie", "--role", "admin", "--account", "nope"], "Unknown account: nope"),
        (["newbie", "--role", "admin"], "at least one --account"),
        (["acme.admin", "--role", "support"], "already exists"),
        (["bad user!", "--role", "support"], "Invalid username"),
        (["u" * 151, "--role", "support"], "150"),
    ],
)
def test_portal_user_add_refuses_bad_input(admin_user, password_env, args, message):
    users = get_user_model().objects.count()
    with pytest.raises(CommandError, match=message):
        run("portal_user", "add", *args, "--password-env", password_env)
    assert get_user_model().objects.count() == users


def test_portal_user_add_refuses_a_missing_password_variable(monkeypatch, account):
    monkeypatch.delenv("VCC_TEST_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="VCC_TEST_PASSWORD"):
        run("portal_user", "add", "newbie", "--role", "support", "--password-env", "VCC_TEST_PASSWORD")
    assert not get_user_model().objects.filter(username="newbie").exists()


@pytest.mark.parametrize("weak", ["password", "short", "12345678901", "newbie-user"])
def test_portal_user_add_refuses_a_weak_password(monkeypatch, weak):
    monkeypatch.setenv("VCC_TEST_PASSWORD", weak)
    with pytest.raises(CommandError):
        run("portal_user", "add", "newbie-user", "--role", "support", "--password-env", "VCC_TEST_PASSWORD")
    assert not get_user_model().objects.filter(username="newbie-user").exists()


def _answers(monkeypatch, *answers: str) -> list[str]:
    prompts: list[str] = []
    queue = list(answers)

    def fake_getpass(prompt: str = "Password: ") -> str:
        prompts.append(prompt)
        return queue.pop(0)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return prompts


def test_portal_user_add_prompts_for_the_password_twice(monkeypatch):
    prompts = _answers(monkeypatch, STRONG_PASSWORD, STRONG_PASSWORD)
    run("portal_user", "add", "sam", "--role", "support")
    assert len(prompts) == 2
    assert get_user_model().objects.get(username="sam").check_password(STRONG_PASSWORD)


def test_portal_user_add_refuses_passwords_that_do_not_match(monkeypatch):
    _answers(monkeypatch, STRONG_PASSWORD, STRONG_PASSWORD + "x")
    with pytest.raises(CommandError, match="do not match"):
        run("portal_user", "add", "sam", "--role", "support")
    assert not get_user_model().objects.filter(username="sam").exists()


def test_portal_user_add_without_a_terminal_fails_cleanly(monkeypatch):
    def no_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_input)
    with pytest.raises(CommandError, match="No password"):
        run("portal_user", "add", "sam", "--role", "support")


# --- seed_demo and retry_pending_revokes -----------------------------------------------------------------


def _counts() -> dict[str, int]:
    return {
        "accounts": Account.objects.count(),
        "links": SalesforceLink.objects.count(),
        "users": get_user_model().objects.count(),
        "groups": Group.objects.count(),
        "events": LinkEvent.objects.count(),
        "memberships": Account.members.through.objects.count(),
    }


def test_seed_demo_is_idempotent_and_creates_the_legacy_demo_link(settings):
    settings.DEBUG = True
    run("seed_demo")
    first = _counts()
    run("seed_demo")
    assert _counts() == first
    assert first["accounts"] >= 2 and first["users"] >= 2
    legacy = SalesforceLink.objects.get(account__slug="globex")
    assert legacy.status == LinkStatus.LEGACY
    assert legacy.legacy_username == "integration@globex.example"
    assert LinkEvent.objects.filter(account__slug="globex", action="legacy").count() == 1


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    """Issue 11 item 3: demo users with the published password never reach a production database."""
    settings.DEBUG = False
    before = _counts()
    with pytest.raises(CommandError, match="DEBUG is off"):
        run("seed_demo")
    assert _counts() == before
    assert not get_user_model().objects.filter(username="admin").exists()


def test_retry_pending_revokes_with_nothing_queued():
    assert run("retry_pending_revokes").startswith("Revoked 0")


# --- Exit codes -------------------------------------------------------------------------------------------


def test_a_failing_command_exits_non_zero(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "vcc_portal.settings",
        "DEBUG": "True",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'scratch.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "vcc_account", "add", "Bad Slug", "--name", "Bad"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "not a valid slug" in result.stderr
