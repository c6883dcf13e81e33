"""Run link health checks now, in this process, with a progress bar and a summary table."""

from __future__ import annotations

from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from crm_admin.models import LinkStatus, SalesforceLink
from crm_admin.services.health import CheckOutcome, link_check_health

STYLES = {
    CheckOutcome.HEALTHY: "green",
    CheckOutcome.ATTENTION: "bold red",
    CheckOutcome.UNKNOWN: "yellow",
    CheckOutcome.BUSY: "cyan",
    CheckOutcome.SKIPPED: "dim",
}
NOTES = {
    CheckOutcome.BUSY: "being checked or refreshed by another process",
    CheckOutcome.SKIPPED: "no longer linked to the same grant",
}


class Command(BaseCommand):
    help = "Check the health of Linked Salesforce links now (refresh, identity, permissions) and summarise."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--account", action="append", default=[], metavar="SLUG", help="This account's link.")
        parser.add_argument(
            "--api-user", action="append", default=[], metavar="USERNAME", help="Every link of this API user."
        )
        parser.add_argument("--all", action="store_true", help="Every Linked link.")

    def handle(self, *args: Any, account: list[str], api_user: list[str], **options: Any) -> None:
        every = options["all"]
        if not (account or api_user or every):
            raise CommandError("Name what to check: --account SLUG, --api-user USERNAME or --all.")
        links = SalesforceLink.objects.filter(status=LinkStatus.LINKED).select_related("account")
        if not every:
            which = Q(account__slug__in=account)
            for username in api_user:
                which |= Q(api_username__iexact=username)
            links = links.filter(which)
        links = list(links.order_by("account__slug"))
        unknown = sorted(set(account) - {link.account.slug for link in links})
        if unknown:
            raise CommandError(f"No Linked link for account(s): {', '.join(unknown)}.")
        if not links:
            self.stdout.write("No Linked links to check.")
            return

        console = Console(file=self.stdout, soft_wrap=False, width=120)
        results: list[tuple[SalesforceLink, CheckOutcome]] = []
        columns = (TextColumn("Checking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True, disable=len(links) < 2) as progress:
            bar = progress.add_task("check", total=len(links))
            for link in links:
                results.append((link, link_check_health(link_id=link.pk)))
                progress.advance(bar)

        table = Table(title="Link health", show_lines=False)
        for heading in ("Account", "API user", "Result", "Details"):
            table.add_column(heading)
        for link, outcome in results:
            link.refresh_from_db()
            details = NOTES.get(outcome, "")
            if outcome == CheckOutcome.ATTENTION:
                details = link.attention_reason
            elif outcome == CheckOutcome.UNKNOWN:
                details = link.health_note + (f" (still shown {link.get_health_display()})" if link.health else "")
            table.add_row(link.account.slug, link.api_username, f"[{STYLES[outcome]}]{outcome.value}[/]", details)
        console.print(table)
        counts = Counter(outcome.value for _, outcome in results)
        console.print(", ".join(f"{counts[o.value]} {o.value}" for o in CheckOutcome if counts[o.value]))
