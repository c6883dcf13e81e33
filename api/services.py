"""Service API keys: create, revoke, and authenticate them.

A key reads ``vcc_<prefix>_<secret>``. The prefix (12 hex characters) is public: it names the key in
``api_key list`` and lets the portal find the row with one indexed lookup. The secret is 32 bytes from
the operating system's CSPRNG (``secrets.token_urlsafe``), and only ``SHA-256(key)`` is stored.

Why a plain SHA-256 and not a password hash (PBKDF2, Argon2): a slow, salted hash protects guessable
secrets, so that an attacker holding the hashes cannot cheaply try likely passwords (ASVS 5.0 V11.4.2
asks it for passwords). A 256-bit random secret cannot be guessed at any hashing speed: at 10^12 SHA-256
per second a preimage takes about 10^57 years (RFC 6749 §10.10 asks at most 2^-128 odds of guessing a
credential). Stretching would add no security and would charge every API request the deliberate
slowness of a password check; SHA-256 is an approved hash (V11.4.1). The hashes are compared in
constant time all the same.

The ``vcc_`` marker makes a leaked key recognisable to secret scanners and to people.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.models import ApiKey, ApiScope

KEY_MARKER = "vcc"
PREFIX_HEX_CHARS = 12
SECRET_BYTES = 32
#: ``last_used_at`` is written at most this often per key, so a busy key costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_KEY_RE = re.compile(rf"{KEY_MARKER}_([0-9a-f]{{{PREFIX_HEX_CHARS}}})_([A-Za-z0-9_-]{{43}})")


class ApiKeyError(ValueError):
    """A refused key operation; the message says what to fix."""


@dataclass(frozen=True)
class IssuedKey:
    """A new key and its row. ``raw_key`` exists only here: show it once, never store or log it."""

    api_key: ApiKey
    raw_key: str = field(repr=False)


def key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def key_prefix(raw_key: str) -> str | None:
    """Return the stored prefix of a well-formed key (``vcc_<12 hex>``), or None for anything else."""
    match = _KEY_RE.fullmatch(raw_key)
    return f"{KEY_MARKER}_{match.group(1)}" if match else None


def _scopes_normalised(scopes: Iterable[str]) -> str:
    requested = set(scopes)
    unknown = requested - set(ApiScope.values)
    if unknown:
        raise ApiKeyError(f"Unknown scope {', '.join(sorted(unknown))}: use {' or '.join(ApiScope.values)}.")
    if not requested:
        raise ApiKeyError(f"Give at least one scope: {' or '.join(ApiScope.values)}.")
    return " ".join(scope for scope in ApiScope.values if scope in requested)


@transaction.atomic
def api_key_create(*, name: str, scopes: Iterable[str]) -> IssuedKey:
    """Create a key for one service; the returned ``raw_key`` is the only copy of the secret."""
    if not NAME_RE.fullmatch(name):
        raise ApiKeyError(
            f"'{name}' is not a valid key name: use up to 100 letters, digits, dots, hyphens and underscores."
        )
    scope_text = _scopes_normalised(scopes)
    if ApiKey.objects.filter(name=name, revoked_at__isnull=True).exists():
        raise ApiKeyError(f"An active API key named '{name}' already exists: revoke it first or choose another name.")
    prefix = f"{KEY_MARKER}_{secrets.token_hex(PREFIX_HEX_CHARS // 2)}"
    raw_key = f"{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    api_key = ApiKey.objects.create(name=name, prefix=prefix, key_hash=key_hash(raw_key), scopes=scope_text)
    return IssuedKey(api_key=api_key, raw_key=raw_key)


@transaction.atomic
def api_key_revoke(*, name_or_prefix: str) -> ApiKey:
    """Revoke the active key with this name or prefix; it is refused from the next request on."""
    active = ApiKey.objects.select_for_update().filter(revoked_at__isnull=True)
    api_key = active.filter(Q(name=name_or_prefix) | Q(prefix=name_or_prefix)).first()
    if api_key is None:
        raise ApiKeyError(f"No active API key is named or prefixed '{name_or_prefix}'.")
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """Return the active key matching ``raw_key`` (recording its use), or None.

    One indexed query by prefix, a constant-time hash comparison, and at most one write a minute per key.
    """
    prefix = key_prefix(raw_key)
    if prefix is None:
        return None
    api_key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, key_hash(raw_key)):
        return None
    api_key_record_use(api_key=api_key, now=timezone.now())
    return api_key


def api_key_record_use(*, api_key: ApiKey, now: datetime) -> None:
    """Set ``last_used_at`` unless it was set less than ``LAST_USED_RESOLUTION`` ago.

    The condition is repeated in the UPDATE so that concurrent requests never move it backwards.
    """
    stale_before = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at > stale_before:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
    ).update(last_used_at=now)
    api_key.last_used_at = now
