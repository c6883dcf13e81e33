from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from salesforce_emulator.seed import refresh_token_rotation


class Command(BaseCommand):
    help = (
        "Settings of the emulator's connected app.\n"
        "  rotation on|off   refresh token rotation: every refresh answers a new refresh token\n"
        "  rotation          show the setting"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        rotation = actions.add_parser("rotation", help="Show or set refresh token rotation.")
        rotation.add_argument("state", nargs="?", choices=["on", "off"])

    def handle(self, *args: Any, action: str, state: str | None, **options: Any) -> None:
        enabled = refresh_token_rotation(None if state is None else state == "on")
        self.stdout.write(f"Refresh token rotation is {'on' if enabled else 'off'}.")
