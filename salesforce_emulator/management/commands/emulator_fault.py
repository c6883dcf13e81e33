from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from salesforce_emulator import faults
from salesforce_emulator.models import FaultEndpoint, FaultKind


class Command(BaseCommand):
    help = (
        "Inject faults into the Salesforce emulator's endpoints.\n"
        "  set ENDPOINT KIND [--times N] [--delay SECONDS]\n"
        "  clear\n"
        "  list"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        inject = actions.add_parser("set", help="Answer the next calls of an endpoint with a fault.")
        inject.add_argument("endpoint", choices=FaultEndpoint.values)
        inject.add_argument("kind", choices=FaultKind.values)
        inject.add_argument("--times", type=int, default=1, help="How many calls the fault answers (default 1).")
        inject.add_argument(
            "--delay",
            type=float,
            help=f"Seconds a timeout fault sleeps, then answers (default {faults.DEFAULT_TIMEOUT_DELAY:g}).",
        )
        actions.add_parser("clear", help="Remove every fault.")
        actions.add_parser("list", help="List the faults with calls left.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "clear":
            faults.clear()
            self.stdout.write(self.style.SUCCESS("Cleared every fault."))
            return
        if action == "set":
            try:
                fault = faults.inject(options["endpoint"], options["kind"], options["times"], options["delay"])
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(self.style.SUCCESS(f"Injected {fault}."))
            return
        for fault in faults.live():
            delay = f", delay {fault.delay:g} s" if fault.delay is not None else ""
            self.stdout.write(f"{fault.endpoint}  {fault.kind}  {fault.remaining} left{delay}")
