"""``api_key create NAME --scope read [--scope token]``, ``api_key revoke NAME|PREFIX``, ``api_key list``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import ApiKey, ApiScope
from api.services import ApiKeyError, api_key_create, api_key_revoke


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "Create, revoke or list the service API keys of the status API."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key and print it, once.")
        create.add_argument("name", help="Which service holds it, e.g. call-logging.")
        create.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            required=True,
            choices=ApiScope.values,
            help="read: the status API for every account; token: Salesforce access tokens. Repeat for both.",
        )
        revoke = sub.add_parser("revoke", help="Revoke a key: refused from its next request on.")
        revoke.add_argument("key", metavar="NAME|PREFIX", help="The key's name, or its prefix (vcc_…).")
        sub.add_parser("list", help="List keys (never their secrets).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            {"create": self._create, "revoke": self._revoke, "list": self._list}[options["action"]](options)
        except ApiKeyError as error:
            raise CommandError(str(error)) from None

    def _create(self, options: dict[str, Any]) -> None:
        issued = api_key_create(name=options["name"], scopes=options["scopes"])
        key = issued.api_key
        self.stdout.write(self.style.SUCCESS(f"Created API key {key.name} ({key.prefix}) with scope {key.scopes}."))
        self.stdout.write("The key is shown only this once; store it in the service's secret store now:")
        self.stdout.write(issued.raw_key)

    def _revoke(self, options: dict[str, Any]) -> None:
        key = api_key_revoke(name_or_prefix=options["key"])
        self.stdout.write(self.style.SUCCESS(f"Revoked API key {key.name} ({key.prefix})."))

    def _list(self, options: dict[str, Any]) -> None:
        keys = ApiKey.objects.order_by("name", "created_at")
        if not keys:
            self.stdout.write("No API keys.")
            return
        self.stdout.write(f"{'NAME':<24} {'PREFIX':<17} {'SCOPES':<11} {'CREATED':<17} {'LAST USED':<17} REVOKED")
        for key in keys:
            self.stdout.write(
                f"{key.name:<24} {key.prefix:<17} {key.scopes:<11} {_when(key.created_at):<17} "
                f"{_when(key.last_used_at):<17} {_when(key.revoked_at)}"
            )
