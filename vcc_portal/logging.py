"""Logging filters: keep OAuth secrets out of access logs (checklist E5)."""

from __future__ import annotations

import logging
import re

_SECRET_PARAMS = re.compile(r"([?&](?:code|state|token|access_token|refresh_token|code_verifier)=)[^&\s\"]*")


class RedactQuerySecrets(logging.Filter):
    """Replace the values of secret query parameters in a record's message with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_PARAMS.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
