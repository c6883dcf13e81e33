"""Plain-HTTP URLs that never leave this machine (used by settings and the configuration check)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_http(url: str) -> bool:
    """Tell whether ``url`` is ``http://`` to 127.0.0.0/8, ::1 or localhost."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False
