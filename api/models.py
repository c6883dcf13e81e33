"""Service API keys: how VCC's other services call the status API (``Authorization: Bearer <key>``).

Only a SHA-256 hash of each key is stored (``api.services`` explains why a fast hash suits a random key);
the key itself is printed once, when ``manage.py api_key create`` makes it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ApiScope(models.TextChoices):
    """What a key may do. ``read``: the status API for every account; ``token``: Salesforce access tokens."""

    READ = "read", "Read link status"
    TOKEN = "token", "Get Salesforce access tokens"


class ApiKey(models.Model):
    name = models.CharField(max_length=100, help_text="Which service holds the key, e.g. 'call-logging'.")
    prefix = models.CharField(
        max_length=16, unique=True, editable=False, help_text="The key's public first part: names it in logs."
    )
    key_hash = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the whole key, hex.")
    #: Space-separated ``ApiScope`` values, as OAuth writes scopes (RFC 6749 §3.3).
    scopes = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["name", "created_at"]
        constraints = [
            # A name names one working key; a revoked key's name may be given to its replacement.
            models.UniqueConstraint(fields=["name"], condition=Q(revoked_at__isnull=True), name="api_key_active_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def __repr__(self) -> str:
        return f"<ApiKey name={self.name!r} prefix={self.prefix!r}>"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: ApiScope | str) -> bool:
        return str(scope) in self.scope_list

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
