"""Bounds on every input the emulator reads, so that hostile input meets a refusal, never a 500.

Salesforce documents few of its own limits; where it does, the emulator uses them, and elsewhere it picks
bounds generous for any real client and small enough that nothing unbounded reaches the database.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Salesforce help 000386264: a REST call's URI is at most 16,384 bytes; a longer one gets 414.
MAX_REST_URI_BYTES = 16_384
#: Salesforce limits cheat sheet, "SOQL and SOSL Limits": a SOQL statement is at most 100,000 characters.
MAX_SOQL_LENGTH = 100_000
#: The User object's Username field holds at most 80 characters (the emulator's column too).
MAX_USERNAME_LENGTH = 80
#: Passwords: far beyond any real one, short enough that hashing it costs nothing.
MAX_PASSWORD_LENGTH = 1_000
#: The authorize request's ``nonce`` is stored in a 255-character column.
MAX_NONCE_LENGTH = 255
#: Any other parameter (a state, a redirect URI, a code, a token).
MAX_PARAMETER_LENGTH = 4_000


def acceptable(value: str, *, max_length: int = MAX_PARAMETER_LENGTH) -> bool:
    """Tell whether ``value`` is short enough and free of NUL.

    PostgreSQL refuses NUL in text outright, and SQLite's C string functions stop at it (``LIKE`` then
    matches a prefix), so no value with one ever reaches a query.
    """
    return len(value) <= max_length and "\x00" not in value


def all_acceptable(items: Iterable[tuple[str, str]], *, limits: dict[str, int] | None = None) -> bool:
    """Tell whether every (name, value) pair is acceptable, each value against its own limit if named."""
    limits = limits or {}
    return all(
        acceptable(name) and acceptable(value, max_length=limits.get(name, MAX_PARAMETER_LENGTH))
        for name, value in items
    )
