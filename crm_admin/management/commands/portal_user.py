"""``portal_user add USERNAME --role admin|support [--account SLUG]... [--password-env VAR]``."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm_admin.services.accounts import ROLE_GROUPS, AccountError, portal_user_create


class Command(BaseCommand):
    help = "Add a portal user with a role (admin of some accounts, or support for all)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add a portal user.")
        add.add_argument("username")
        add.add_argument("--role", required=True, help=f"One of: {', '.join(ROLE_GROUPS)}.")
        add.add_argument(
            "--account",
            action="append",
            default=[],
            dest="accounts",
            metavar="SLUG",
            help="An account the admin manages; repeat for several. Support users see every account.",
        )
        add.add_argument("--email", default="")
        add.add_argument(
            "--password-env",
            metavar="VAR",
            help="Read the password from this environment variable instead of prompting.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(options["password_env"])
        try:
            user = portal_user_create(
                username=options["username"],
                role=options["role"],
                password=password,
                account_slugs=options["accounts"],
                email=options["email"],
            )
        except AccountError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Added {options['role']} {user.get_username()}."))

    def _password(self, variable: str | None) -> str:
        if variable:
            password = os.environ.get(variable, "")
            if not password:
                raise CommandError(f"The environment variable {variable} is empty or not set.")
            return password
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("No password given.") from None
        if first != second:
            raise CommandError("The passwords do not match.")
        return first
