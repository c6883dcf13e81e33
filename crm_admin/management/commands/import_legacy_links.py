"""``import_legacy_links FILE.csv [--dry-run]``: bring in accounts linked by the old method."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from crm_admin.exceptions import LinkError
from crm_admin.services.accounts import AccountError
from crm_admin.services.legacy_import import ImportReport, LegacyImportError, legacy_links_import


class Command(BaseCommand):
    help = (
        "Import accounts linked by the old method from a CSV file with the columns account slug, account name, "
        "org type, legacy username and optionally org id. Missing accounts are created; every row's account "
        "becomes Legacy. The file is imported in one transaction, or not at all when a row is bad."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file (UTF-8) with a header row.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        stream: TextIO = options.get("stdout") or sys.stdout
        with ExitStack() as stack:
            try:
                lines = stack.enter_context(open(options["file"], encoding="utf-8-sig", newline=""))
            except OSError as error:
                raise CommandError(f"Cannot read {options['file']}: {error.strerror}.") from None
            progress = self._progress(stack, stream) if stream.isatty() else None
            try:
                report = legacy_links_import(lines=lines, dry_run=options["dry_run"], progress=progress)
            except (LegacyImportError, AccountError, LinkError) as error:
                message = error.user_message if isinstance(error, LinkError) else str(error)
                raise CommandError(message) from None
        self._report(report)

    def _progress(self, stack: ExitStack, stream: TextIO) -> Callable[[int, int], None]:
        """A rich progress bar drawn on the terminal once rows are being written."""
        bar = Progress(
            TextColumn("Importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        )
        task: list[Any] = []

        def advance(done: int, total: int) -> None:
            if not task:
                stack.enter_context(bar)
                task.append(bar.add_task("import", total=total))
            bar.update(task[0], completed=done)

        return advance

    def _report(self, report: ImportReport) -> None:
        if report.ignored_columns:
            self.stdout.write(f"Ignored columns: {', '.join(report.ignored_columns)}.")
        for bad in report.bad:
            self.stderr.write(str(bad))
        summary = (
            f"Created {report.created}, updated {report.updated}, unchanged {report.unchanged}, bad {len(report.bad)}."
        )
        if report.bad:
            self.stdout.write(summary)
            raise CommandError(f"{len(report.bad)} bad row(s): nothing was imported. Fix them and run again.")
        if report.dry_run:
            self.stdout.write(summary)
            self.stdout.write("Dry run: nothing was written.")
            return
        self.stdout.write(self.style.SUCCESS(summary))
