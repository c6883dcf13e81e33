"""Hand due health checks and revoke retries to the task worker: once (cron, systemd timer) or in a loop."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from crm_admin.services.scheduling import SchedulerPass, scheduler_run


class Command(BaseCommand):
    help = (
        "Enqueue the link health checks and pending-revoke retries that are due. Run it every minute from "
        "a systemd timer or cron, or with --loop as a long-running process; several may run at once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", help="Repeat every SECONDS until stopped (development)."
        )

    def handle(self, *args: Any, loop: float | None, **options: Any) -> None:
        if loop is None:
            self._report(scheduler_run(), always=True)
            return
        if loop <= 0:
            raise CommandError("--loop needs a positive number of seconds.")
        try:
            while True:
                close_old_connections()
                self._report(scheduler_run(), always=False)
                time.sleep(loop)
        except KeyboardInterrupt:
            return

    def _report(self, result: SchedulerPass, *, always: bool) -> None:
        if always or result.checks or result.revokes or result.placed:
            self.stdout.write(
                f"Scheduled {result.placed} new link(s); enqueued {result.checks} health check(s) and "
                f"{result.revokes} revoke retry(ies)."
            )
