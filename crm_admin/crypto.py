"""Encryption of Salesforce tokens at rest: the only place where plaintext tokens and ciphertext meet.

``TOKEN_ENCRYPTION_KEYS`` is a comma list of Fernet keys; the first encrypts, all decrypt, so a new key
is prepended, ``rotate_token_keys`` re-encrypts, and the old key is then dropped (cryptography
``MultiFernet.rotate``; checklist E1/E2). Keys are not derived from ``SECRET_KEY``.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "fernet", "rotate"]


def fernet() -> MultiFernet:
    """Build the MultiFernet from settings (cheap; read each time so tests can override the keys)."""
    return MultiFernet([Fernet(key) for key in settings.TOKEN_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(ciphertext: str) -> str:
    """Return the plaintext; raise ``InvalidToken`` when no configured key opens it."""
    return fernet().decrypt(ciphertext.encode("ascii")).decode()


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the first key, keeping the original timestamp."""
    return fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
