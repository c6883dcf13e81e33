"""The management commands: emulator_seed, emulator_user and emulator_fault."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from salesforce_emulator.models import EmulatorFault, Organization, SalesforceUser
from salesforce_emulator.seed import DEMO_PASSWORD


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_emulator_seed(db: None) -> None:
    assert "Emulator-Pass-1" in run("emulator_seed")
    run("emulator_seed")

    assert SalesforceUser.objects.count() == 16


def test_add_user_with_defaults(seeded: None) -> None:
    output = run("emulator_user", "add", "new@acme.example", "--org", "Acme Corp", "--host", "production")

    user = SalesforceUser.objects.get(username="new@acme.example")
    assert user.id in output
    assert user.organization.name == "Acme Corp"
    assert user.is_active
    assert check_password(DEMO_PASSWORD, user.password)
    assert user.has_permission("PermissionsApiEnabled")


def test_add_user_by_org_id_inactive_without_permissions(seeded: None) -> None:
    org = Organization.objects.get(name="Acme Corp")

    run(
        "emulator_user",
        "add",
        "limited@acme.example",
        "--org",
        org.id[:15],
        "--host",
        "production",
        "--password",
        "S3cret-pass",
        "--inactive",
        "--without",
        "PermissionsApiEnabled",
        "PermissionsViewAllData",
    )

    user = SalesforceUser.objects.get(username="limited@acme.example")
    assert not user.is_active
    assert check_password("S3cret-pass", user.password)
    assert not user.has_permission("PermissionsApiEnabled")
    assert not user.has_permission("PermissionsViewAllData")
    assert user.has_permission("PermissionsEditTask")


def test_add_user_with_password_from_environment(seeded: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMU_PASSWORD", "From-the-env-1")

    run(
        "emulator_user",
        "add",
        "env@acme.example.uat",
        "--org",
        "Acme Corp UAT",
        "--host",
        "sandbox",
        "--password-env",
        "EMU_PASSWORD",
    )

    assert check_password("From-the-env-1", SalesforceUser.objects.get(username="env@acme.example.uat").password)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "api@acme.example", "--org", "Acme Corp", "--host", "production"], "is taken"),
        (["add", "x@acme.example", "--org", "Acme Corp UAT", "--host", "production"], "No org"),
        (
            ["add", "x@acme.example", "--org", "Acme Corp", "--host", "production", "--without", "PermissionsFly"],
            "Unknown permission",
        ),
        (
            ["add", "x@acme.example", "--org", "Acme Corp", "--host", "production", "--password-env", "EMU_UNSET"],
            "EMU_UNSET",
        ),
        (["add", "x@acme.example", "--org", "Acme Corp", "--host", "moon"], "invalid choice"),
        (["add-org", "Acme Corp", "--host", "production"], "already has an org"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_emulator_user_refuses_bad_input(seeded: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("emulator_user", *args, stdout=StringIO())


def test_add_org_then_a_user_in_it(seeded: None) -> None:
    output = run("emulator_user", "add-org", "Globex", "--host", "sandbox", "--inactive", "--api-disabled")
    org = Organization.objects.get(name="Globex")
    assert org.id in output
    assert (org.host, org.is_active, org.api_enabled) == ("sandbox", False, False)

    run("emulator_user", "add", "admin@globex.example", "--org", "Globex", "--host", "sandbox")

    assert SalesforceUser.objects.get(username="admin@globex.example").organization == org


def test_list_shows_orgs_users_and_flags(seeded: None) -> None:
    output = run("emulator_user", "list", "--host", "production")

    assert "Locked Corp  [inactive]" in output
    assert "NoAPI Corp  [API off]" in output
    assert "inactive@acme.example  [inactive]" in output
    assert "noapi@acme.example  [without PermissionsApiEnabled]" in output
    assert "api@acme.example.uat" not in output


def test_emulator_fault_set_list_clear(db: None) -> None:
    run("emulator_fault", "set", "token", "timeout", "--times", "2", "--delay", "3")
    assert (EmulatorFault.objects.get().remaining, EmulatorFault.objects.get().delay) == (2, 3.0)
    assert "token  timeout  2 left, delay 3 s" in run("emulator_fault", "list")

    run("emulator_fault", "clear")

    assert not EmulatorFault.objects.exists()


@pytest.mark.parametrize(
    "args",
    [["set", "token", "api_disabled"], ["set", "nowhere", "timeout"], ["set", "query", "timeout", "--times", "0"]],
)
def test_emulator_fault_refuses_bad_input(db: None, args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("emulator_fault", *args, stdout=StringIO())


def test_set_deactivates_and_reactivates_a_user(seeded: None) -> None:
    assert "is inactive" in run("emulator_user", "set", "API@acme.example", "--inactive")
    assert not SalesforceUser.objects.get(username="api@acme.example").is_active
    assert "is active" in run("emulator_user", "set", "api@acme.example", "--active")
    assert SalesforceUser.objects.get(username="api@acme.example").is_active


def test_set_removes_and_grants_permissions(seeded: None) -> None:
    output = run("emulator_user", "set", "api@acme.example", "--remove", "PermissionsEditTask")
    assert "without PermissionsEditTask" in output
    user = SalesforceUser.objects.get(username="api@acme.example")
    assert not user.has_permission("PermissionsEditTask") and user.has_permission("PermissionsApiEnabled")
    assert "every permission" in run("emulator_user", "set", "api@acme.example", "--grant", "PermissionsEditTask")
    assert SalesforceUser.objects.get(username="api@acme.example").has_permission("PermissionsEditTask")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "api@acme.example"], "Say what to change"),
        (["set", "nobody@acme.example", "--inactive"], "No user"),
        (["set", "api@acme.example", "--remove", "PermissionsFly"], "Unknown permission"),
        (["set", "api@acme.example", "--grant", "PermissionsEditTask", "--remove", "PermissionsEditTask"], "Both"),
        (["revoke", "nobody@acme.example"], "No user"),
    ],
)
def test_set_and_revoke_refuse_bad_input(seeded: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("emulator_user", *args)


def test_revoke_ends_every_approval_of_the_user_and_the_next_refresh_fails(sf) -> None:
    first, second = sf.tokens_for("api@acme.example"), sf.tokens_for("api@acme.example")
    other = sf.tokens_for("api2@acme.example")
    assert "Revoked 2 approval(s) of api@acme.example" in run("emulator_user", "revoke", "api@acme.example")
    for tokens in (first, second):
        refused = sf.refresh(tokens["refresh_token"])
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert sf.refresh(other["refresh_token"]).status_code == 200
