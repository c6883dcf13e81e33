"""``vcc_account add SLUG --name "Display name"`` and ``vcc_account list``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm_admin.models import Account
from crm_admin.services.accounts import AccountError, account_create


class Command(BaseCommand):
    help = "Add or list VCC accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add a VCC account (Unlinked).")
        add.add_argument("slug", help="Lower-case letters, digits and hyphens; used in URLs.")
        add.add_argument("--name", required=True, help="Display name shown in the portal.")
        sub.add_parser("list", help="List accounts with their Salesforce link status.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "add":
            try:
                account = account_create(slug=options["slug"], name=options["name"])
            except AccountError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(self.style.SUCCESS(f"Added account {account.slug} ({account.name})."))
            return
        accounts = Account.objects.select_related("salesforce_link", "salesforce_link__api_user").order_by("slug")
        if not accounts:
            self.stdout.write("No accounts.")
            return
        self.stdout.write(f"{'SLUG':<24} {'STATUS':<9} {'ORG TYPE':<10} {'API USERNAME':<32} NAME")
        for account in accounts:
            link = getattr(account, "salesforce_link", None)
            status = link.get_status_display() if link else "Unlinked"
            org_type = link.get_org_type_display() if link and link.org_type else "-"
            username = (link.api_username or link.legacy_username) if link else ""
            self.stdout.write(f"{account.slug:<24} {status:<9} {org_type:<10} {username or '-':<32} {account.name}")
