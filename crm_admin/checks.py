"""Configuration checks: a half-configured deployment fails at start-up, naming what is missing.

Tagged ``vcc_config`` so that the WSGI/ASGI entry points can run them too (``vcc_portal.startup``).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from vcc_portal.loopback import is_loopback_http


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
def check_salesforce_urls(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Checklist E4/A5: our redirect URI is HTTPS outside DEBUG; Salesforce's login URLs always are.

    A plain ``http://`` login URL is a Salesforce stand-in on this machine: allowed only for a loopback
    address with DEBUG on (oauthlib then accepts it, see settings), and said so at start-up. Any other is
    refused here rather than by oauthlib's InsecureTransportError when an admin clicks Link.
    """
    messages: list[CheckMessage] = []
    site_url_required = not settings.DEBUG and "SITE_URL" not in settings.MISSING_REQUIRED_SETTINGS
    if site_url_required and urlsplit(settings.SITE_URL).scheme != "https":
        messages.append(Error("SITE_URL must be an https:// URL when DEBUG is off.", id="crm_admin.E003"))
    for name in ("SALESFORCE_PRODUCTION_LOGIN_URL", "SALESFORCE_SANDBOX_LOGIN_URL"):
        url = getattr(settings, name)
        scheme = urlsplit(url).scheme
        if scheme == "https":
            continue
        if scheme == "http" and settings.DEBUG and is_loopback_http(url):
            if not (settings.SALESFORCE_EMULATOR and url.startswith(settings.SALESFORCE_EMULATOR_URL + "/")):
                messages.append(
                    Warning(
                        f"{name} is plain HTTP ({url}): allowed only because DEBUG is on and it is a loopback "
                        "address. Tokens cross that connection unencrypted.",
                        id="crm_admin.W001",
                    )
                )
            continue
        messages.append(
            Error(
                f"{name} must be an https:// URL; plain HTTP is allowed only for a loopback address "
                f"(127.0.0.1, ::1, localhost) with DEBUG on. Got {url!r}.",
                hint="Salesforce login URLs are https://login.salesforce.com, https://test.salesforce.com or "
                "your My Domain; see README.md, Configuration.",
                id="crm_admin.E003",
            )
        )
    return messages
