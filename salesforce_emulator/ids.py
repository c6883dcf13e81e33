"""Salesforce record ids, made and compared the way Salesforce does (reference §9).

A 15-character id is case-sensitive; the 18-character form appends three checksum characters, one per
5-character chunk: bit i of a chunk (i = 0 leftmost) is 1 when that character is an upper-case letter, and
the 5-bit number indexes ``ABCDEFGHIJKLMNOPQRSTUVWXYZ012345``. APIs answer with 18 characters and accept
either form.
"""

from __future__ import annotations

import hashlib

ORGANIZATION_PREFIX = "00D"
USER_PREFIX = "005"

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def checksum(id15: str) -> str:
    """Return the three checksum characters for a 15-character id."""
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, char in enumerate(id15[start : start + 5]) if "A" <= char <= "Z")
        suffix += _CHECKSUM_ALPHABET[bits]
    return suffix


def derive(prefix: str, label: str) -> str:
    """Make a stable 18-character id of the given key prefix from ``label`` (a username, an org name).

    Stable ids let the seed be re-run, and let documentation and other test suites name the seeded records.
    The shape (prefix, pod digits, zero padding, six base-62 characters) follows real ids such as
    ``005Hn00000AbCdE``.
    """
    number = int.from_bytes(hashlib.sha256(f"{prefix}:{label}".encode()).digest()[:8], "big")
    tail = ""
    for _ in range(6):
        number, digit = divmod(number, 62)
        tail += _BASE62[digit]
    id15 = f"{prefix}Hn0000{tail}"
    return id15 + checksum(id15)


def same_id(candidate: str, record_id: str) -> bool:
    """Tell whether ``candidate`` (15 or 18 characters) names the record with 18-character id ``record_id``.

    A 15-character id compares case-sensitively; an 18-character one case-insensitively (reference §9).
    """
    if len(candidate) == 15:
        return candidate == record_id[:15]
    return len(candidate) == 18 and candidate.lower() == record_id.lower()
