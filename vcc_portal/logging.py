"""Logging filters: keep OAuth secrets out of access logs (checklist E5)."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset({"code", "state", "token", "access_token", "refresh_token", "code_verifier"})
#: A query string in a log line: from "?" to the first space or quote (the end of a request line's path).
_QUERY = re.compile(r"\?([^\s\"]*)")
#: A secret parameter inside a decoded value, e.g. a ``next=`` URL that carries the callback's query.
_NESTED_SECRET = re.compile(r"[?&;]\s*(?:" + "|".join(sorted(SECRET_PARAMETERS)) + r")\s*=", re.IGNORECASE)
#: Enough rounds for any encoding a client could stack; each round only shortens the text.
_MAX_DECODE_ROUNDS = 8
REDACTED = "[redacted]"


def _decoded(text: str) -> str:
    """Percent-decode until nothing changes, so ``%2573tate`` and ``%73tate`` both read ``state``."""
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    return text


def _is_secret(name: str, value: str) -> bool:
    if _decoded(name).strip().lower() in SECRET_PARAMETERS:
        return True
    return bool(_NESTED_SECRET.search("&" + _decoded(value)))


def _redact_query(match: re.Match[str]) -> str:
    parameters = []
    for parameter in match.group(1).split("&"):
        name, separator, value = parameter.partition("=")
        if separator and value and _is_secret(name, value):
            value = REDACTED
        parameters.append(name + separator + value)
    return "?" + "&".join(parameters)


def redact_query_secrets(message: str) -> str:
    """Return ``message`` with the value of every secret query parameter replaced by ``[redacted]``.

    Names are compared after percent-decoding and case-folding: the raw spelling in a request line
    (``%73tate=``) is the client's choice, and a filter on it alone lets a crafted URL through.
    """
    return _QUERY.sub(_redact_query, message)


class RedactQuerySecrets(logging.Filter):
    """Replace the values of secret query parameters in a record's message with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_query_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
