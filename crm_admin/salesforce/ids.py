"""Salesforce record ids: 15-character case-sensitive and 18-character case-insensitive forms.

Reference §9: the 18-character form appends three checksum characters, one per 5-character chunk; bit i
of a chunk (i = 0 leftmost) is 1 when that character is an upper-case letter, and the 5-bit number
indexes ``ABCDEFGHIJKLMNOPQRSTUVWXYZ012345``.
"""

from __future__ import annotations

import re

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?")

ORGANIZATION_PREFIX = "00D"
USER_PREFIX = "005"


def checksum(id15: str) -> str:
    """Return the three checksum characters for a 15-character id."""
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, char in enumerate(id15[start : start + 5]) if "A" <= char <= "Z")
        suffix += _ALPHABET[bits]
    return suffix


def to_18(record_id: str) -> str:
    """Return the 18-character form of a valid id; raise ``ValueError`` on a malformed one."""
    if not _ID_RE.fullmatch(record_id):
        raise ValueError("A Salesforce id has 15 or 18 letters and digits.")
    expected = checksum(record_id[:15])
    if len(record_id) == 18:
        if record_id[15:].upper() != expected:
            raise ValueError("The Salesforce id's checksum does not match.")
        return record_id[:15] + expected
    return record_id + expected


def canonical(record_id: str) -> str:
    """Return the 18-character form of an id typed in either form, whatever the case of an 18-character one.

    The checksum records which letters of the first 15 characters are upper-case, so an 18-character id
    pasted in the wrong case is restored exactly; a 15-character id is case-sensitive and taken as typed.
    Raise ``ValueError`` when it is not an id.
    """
    if len(record_id) == 18 and _ID_RE.fullmatch(record_id):
        suffix = record_id[15:].upper()
        if all(char in _ALPHABET for char in suffix):
            chars = list(record_id[:15])
            for chunk, code in enumerate(suffix):
                bits = _ALPHABET.index(code)
                for i in range(5):
                    position = chunk * 5 + i
                    chars[position] = chars[position].upper() if bits >> i & 1 else chars[position].lower()
            record_id = "".join(chars) + suffix
    return to_18(record_id)


def is_valid_18(record_id: str, prefix: str | None = None) -> bool:
    """Tell whether ``record_id`` is a canonical 18-character id, optionally of the given key prefix."""
    if len(record_id) != 18 or (prefix and not record_id.startswith(prefix)):
        return False
    try:
        return to_18(record_id) == record_id
    except ValueError:
        return False
