"""Configuration checks: a half-configured deployment fails at start-up, naming what is missing.

Tagged ``vcc_config`` so that the WSGI/ASGI entry points can run them too (``vcc_portal.startup``).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register


@register("vcc_config")
def check_required_settings(app_configs=None, **kwargs) -> list[Error]:
    return [
        Error(
            f"The environment variable {name} is required when DEBUG is off.",
            hint="Set it in the environment or in a .env file; see README.md, Configuration.",
            id="crm_admin.E001",
        )
        for name in settings.MISSING_REQUIRED_SETTINGS
    ]


@register("vcc_config")
def check_token_encryption_keys(app_configs=None, **kwargs) -> list[Error]:
    if "TOKEN_ENCRYPTION_KEYS" in settings.MISSING_REQUIRED_SETTINGS:
        return []
    errors = []
    if not settings.TOKEN_ENCRYPTION_KEYS:
        errors.append(Error("TOKEN_ENCRYPTION_KEYS lists no key.", id="crm_admin.E002"))
    for position, key in enumerate(settings.TOKEN_ENCRYPTION_KEYS, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            errors.append(
                Error(
                    f"TOKEN_ENCRYPTION_KEYS entry {position} is not a Fernet key.",
                    hint='Generate one with: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"',
                    id="crm_admin.E002",
                )
            )
    return errors


@register("vcc_config")
def check_salesforce_urls(app_configs=None, **kwargs) -> list[Error]:
    """Checklist E4/A5: outside DEBUG, Salesforce and our redirect URI must be HTTPS."""
    if settings.DEBUG:
        return []
    errors = []
    for name in ("SITE_URL", "SALESFORCE_PRODUCTION_LOGIN_URL", "SALESFORCE_SANDBOX_LOGIN_URL"):
        if name in settings.MISSING_REQUIRED_SETTINGS:
            continue
        if urlsplit(getattr(settings, name)).scheme != "https":
            errors.append(Error(f"{name} must be an https:// URL when DEBUG is off.", id="crm_admin.E003"))
    return errors
