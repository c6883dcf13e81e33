"""Retry revoking grants that Salesforce could not be told about (run from cron or a task worker)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from crm_admin.services.revokes import pending_revokes_retry


class Command(BaseCommand):
    help = "Revoke at Salesforce every grant still waiting in the pending-revoke outbox."

    def handle(self, *args: Any, **options: Any) -> None:
        revoked, failed = pending_revokes_retry()
        self.stdout.write(f"Revoked {revoked}; still pending {failed}.")
