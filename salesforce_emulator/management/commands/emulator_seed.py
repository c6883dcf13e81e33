from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from salesforce_emulator.seed import DEMO_PASSWORD, seed


class Command(BaseCommand):
    help = (
        "Create the Salesforce emulator's connected app, demo orgs and demo users where missing "
        "(safe to run again). See salesforce_emulator/README.md."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        seed()
        self.stdout.write(self.style.SUCCESS(f"Emulator seeded. Demo users' password: {DEMO_PASSWORD}"))
