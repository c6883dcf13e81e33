"""Refuse to serve with a broken configuration, as ``runserver`` and ``migrate`` do through system checks."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def fail_on_configuration_errors() -> None:
    """Run the configuration checks and raise if any error is found (WSGI/ASGI start-up)."""
    errors = [m for m in checks.run_checks(tags=["vcc_config"]) if m.level >= checks.ERROR]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{m.id}: {m.msg}" for m in errors))
