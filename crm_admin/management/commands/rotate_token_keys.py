"""Re-encrypt every stored Salesforce secret under the first key of TOKEN_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm_admin import crypto
from crm_admin.models import PendingAuthorization, PendingRevoke, SalesforceToken

#: Every model field that holds Fernet ciphertext.
ENCRYPTED_FIELDS = [
    (SalesforceToken, "refresh_token_encrypted"),
    (PendingRevoke, "token_encrypted"),
    (PendingAuthorization, "code_verifier_encrypted"),
]


class Command(BaseCommand):
    help = (
        "Key rotation: prepend a new key to TOKEN_ENCRYPTION_KEYS, run this, then drop the old key. "
        "Re-encrypts with MultiFernet.rotate, keeping each token's original timestamp."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        try:
            for model, field in ENCRYPTED_FIELDS:
                with transaction.atomic():
                    for row in model.objects.select_for_update().only("pk", field).iterator(chunk_size=500):
                        setattr(row, field, crypto.rotate(getattr(row, field)))
                        row.save(update_fields=[field])
                        total += 1
        except crypto.InvalidToken:
            raise CommandError(
                "A stored secret cannot be decrypted with any configured key. Keep the old key in "
                "TOKEN_ENCRYPTION_KEYS (after the new one) until rotation succeeds."
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} secrets under the first key."))
