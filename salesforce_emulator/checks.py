"""The emulator's configuration check: it must never serve a deployment with DEBUG off."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register("vcc_config")
def check_debug_only(app_configs: list[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse start-up when the emulator is on with DEBUG off: it would be a fake Salesforce in production."""
    emulator_on = getattr(settings, "SALESFORCE_EMULATOR", False) or apps.is_installed("salesforce_emulator")
    if settings.DEBUG or not emulator_on:
        return []
    return [
        Error(
            "The Salesforce emulator must never run with DEBUG off.",
            hint="Unset SALESFORCE_EMULATOR and configure a real Salesforce connected app, or set DEBUG=True "
            "for development.",
            id="salesforce_emulator.E001",
        )
    ]
