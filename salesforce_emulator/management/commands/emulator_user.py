from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from salesforce_emulator import directory, tokens
from salesforce_emulator.models import PERMISSIONS, Host, Organization
from salesforce_emulator.seed import DEMO_PASSWORD


class Command(BaseCommand):
    help = (
        "Manage the Salesforce emulator's orgs and users.\n"
        "  add USERNAME --org ORG --host HOST [--password P | --password-env VAR] [--inactive] "
        "[--without PERMISSION ...]\n"
        "  add-org NAME --host HOST [--inactive] [--api-disabled]\n"
        "  set USERNAME [--active | --inactive] [--grant PERMISSION ...] [--remove PERMISSION ...]\n"
        "  revoke USERNAME\n"
        "  list [--host HOST]"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)

        add = actions.add_parser("add", help="Add a user to an org.")
        add.add_argument("username", help="Unique across every org and host, like a Salesforce username.")
        add.add_argument("--org", required=True, help="The org's name or its 15- or 18-character id.")
        add.add_argument("--host", required=True, choices=Host.values)
        password = add.add_mutually_exclusive_group()
        password.add_argument("--password", help=f"Default: the demo password {DEMO_PASSWORD}.")
        password.add_argument("--password-env", metavar="VAR", help="Read the password from this variable.")
        add.add_argument("--inactive", action="store_true", help="Create the user inactive.")
        add.add_argument(
            "--without",
            nargs="+",
            default=[],
            metavar="PERMISSION",
            help=f"Permissions the user lacks (it holds all others): {', '.join(PERMISSIONS)}.",
        )
        add.add_argument("--first-name", default="Emulated")
        add.add_argument("--last-name", default="User")

        add_org = actions.add_parser("add-org", help="Add an org to a host.")
        add_org.add_argument("name")
        add_org.add_argument("--host", required=True, choices=Host.values)
        add_org.add_argument("--inactive", action="store_true", help="A locked, closed or suspended org.")
        add_org.add_argument("--api-disabled", action="store_true", help="An org with the REST API off.")

        change = actions.add_parser("set", help="Activate or deactivate a user; grant or remove permissions.")
        change.add_argument("username")
        state = change.add_mutually_exclusive_group()
        state.add_argument("--active", dest="is_active", action="store_true", default=None)
        state.add_argument("--inactive", dest="is_active", action="store_false")
        change.add_argument("--grant", nargs="+", default=[], metavar="PERMISSION")
        change.add_argument("--remove", nargs="+", default=[], metavar="PERMISSION")

        revoke = actions.add_parser(
            "revoke",
            help="Revoke every OAuth approval the user gave the connected app (Setup: Connected Apps OAuth Usage).",
        )
        revoke.add_argument("username")

        listing = actions.add_parser("list", help="List orgs and users.")
        listing.add_argument("--host", choices=Host.values)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            {
                "add": self._add,
                "add-org": self._add_org,
                "set": self._set,
                "revoke": self._revoke,
                "list": self._list,
            }[action](**options)
        except directory.DirectoryError as error:
            raise CommandError(str(error)) from error

    def _add(self, *, username: str, org: str, host: str, **options: Any) -> None:
        organization = directory.find_organization(host=host, ref=org)
        user = directory.add_user(
            organization=organization,
            username=username,
            password=self._password(options["password"], options["password_env"]),
            first_name=options["first_name"],
            last_name=options["last_name"],
            is_active=not options["inactive"],
            without=options["without"],
        )
        self.stdout.write(self.style.SUCCESS(f"Added {user.username} ({user.id}) to {organization}."))

    def _password(self, password: str | None, variable: str | None) -> str:
        if variable is None:
            return password or DEMO_PASSWORD
        value = os.environ.get(variable, "")
        if not value:
            raise CommandError(f"The environment variable {variable} is unset or empty.")
        return value

    def _add_org(self, *, name: str, host: str, inactive: bool, api_disabled: bool, **options: Any) -> None:
        org = directory.add_organization(host=host, name=name, is_active=not inactive, api_enabled=not api_disabled)
        self.stdout.write(self.style.SUCCESS(f"Added {org} with id {org.id}."))

    def _set(
        self, *, username: str, is_active: bool | None, grant: list[str], remove: list[str], **options: Any
    ) -> None:
        if is_active is None and not grant and not remove:
            raise CommandError("Say what to change: --active, --inactive, --grant or --remove.")
        user = directory.change_user(
            user=directory.find_user(username=username), is_active=is_active, grant=grant, remove=remove
        )
        missing = [name for name in PERMISSIONS if not user.has_permission(name)]
        state = "active" if user.is_active else "inactive"
        lacking = f", without {', '.join(missing)}" if missing else ", every permission"
        self.stdout.write(self.style.SUCCESS(f"{user.username} is {state}{lacking}."))

    def _revoke(self, *, username: str, **options: Any) -> None:
        user = directory.find_user(username=username)
        revoked = tokens.revoke_user_approvals(user)
        self.stdout.write(self.style.SUCCESS(f"Revoked {revoked} approval(s) of {user.username}."))

    def _list(self, *, host: str | None, **options: Any) -> None:
        orgs = Organization.objects.order_by("host", "name").prefetch_related("users")
        for org in orgs.filter(host=host) if host else orgs:
            flags = [flag for flag, on in (("inactive", not org.is_active), ("API off", not org.api_enabled)) if on]
            self.stdout.write(f"{org.get_host_display()}  {org.id}  {org.name}{self._flags(flags)}")
            for user in sorted(org.users.all(), key=lambda user: user.username):
                missing = [name for name in PERMISSIONS if not user.has_permission(name)]
                flags = ["inactive"] * (not user.is_active) + [f"without {name}" for name in missing]
                self.stdout.write(f"    {user.id}  {user.username}{self._flags(flags)}")

    @staticmethod
    def _flags(flags: list[str]) -> str:
        return f"  [{', '.join(flags)}]" if flags else ""
