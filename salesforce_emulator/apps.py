from __future__ import annotations

from django.apps import AppConfig


class SalesforceEmulatorConfig(AppConfig):
    name = "salesforce_emulator"
    verbose_name = "Salesforce emulator"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesforce_emulator import checks  # noqa: F401  (registers the system check)
