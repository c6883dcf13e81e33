"""Idempotent demo data for ``make run`` (listed in README.md, "Demo data"); development only."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from crm_admin.models import Account, LinkStatus
from crm_admin.services.accounts import account_create, portal_user_create, roles_ensure
from crm_admin.services.links import link_mark_legacy

DEMO_PASSWORD = "Vcc-Demo-Pass-1"

ACCOUNTS = [
    ("acme", "Acme Contact Center"),
    ("globex", "Globex Support Desk"),
    *[(f"branch-{n}", f"Initech Branch {n}") for n in range(1, 7)],
]
#: Admins have addresses so that health notices show up in the development server's console.
USERS = [
    ("admin", "admin", ["acme"], "admin@acme.example"),
    ("globex.admin", "admin", ["globex"], "admin@globex.example"),
    ("ops.admin", "admin", [f"branch-{n}" for n in range(1, 7)], "ops@initech.example"),
    ("support", "support", [], ""),
]
LEGACY = {"globex": "integration@globex.example"}


class Command(BaseCommand):
    help = "Create the demo accounts, users and (with the emulator on) the emulator's Salesforce orgs."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            # Every demo user shares a published password: never on a production database.
            raise CommandError(
                "Refusing to create demo data: DEBUG is off, so this may be a production database, and the "
                "demo users share the password published in README.md. Run it with DEBUG=True (make run does)."
            )
        roles_ensure()
        for slug, name in ACCOUNTS:
            if not Account.objects.filter(slug=slug).exists():
                account_create(slug=slug, name=name)
        for slug, legacy_username in LEGACY.items():
            account = Account.objects.get(slug=slug)
            if account.salesforce_link.status == LinkStatus.UNLINKED and not account.link_events.exists():
                link_mark_legacy(account=account, legacy_username=legacy_username, org_type="production")
        user_model = get_user_model()
        for username, role, slugs, email in USERS:
            if not user_model.objects.filter(username=username).exists():
                portal_user_create(
                    username=username, role=role, password=DEMO_PASSWORD, account_slugs=slugs, email=email
                )
        if apps.is_installed("salesforce_emulator"):
            call_command("emulator_seed", verbosity=0)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Log in as 'admin' (or 'ops.admin', 'globex.admin', 'support') "
                f"with password {DEMO_PASSWORD}."
            )
        )
