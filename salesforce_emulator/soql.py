"""The one SOQL query the emulator answers: ``SELECT <fields> FROM UserPermissionAccess`` (reference §8).

UserPermissionAccess holds the current user's effective permissions, so the answer is always one record.
"""

from __future__ import annotations

import re
from typing import Any

from salesforce_emulator import rest
from salesforce_emulator.errors import RestError
from salesforce_emulator.limits import MAX_SOQL_LENGTH
from salesforce_emulator.models import PERMISSIONS, AccessToken, SalesforceUser

ENTITY = "UserPermissionAccess"
# UserPermissionAccess records carry this fixed id rather than a real record's.
RECORD_ID = "000000000000000AAA"
_SUPPORTED = "SELECT <fields> FROM UserPermissionAccess"
_FIELDS = {name.lower(): name for name in ("Id", *PERMISSIONS)}
# One token per match, a word or a comma; whitespace between them is skipped one character at a time and
# never backtracked over, so tokenising is linear in the query's length.
_TOKEN_RE = re.compile(r"[^\s,]+|,")
_FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def execute(token: AccessToken | None, *, query: str, version: str) -> dict[str, Any]:
    """Run a REST query for the token's user, refusing as Salesforce's REST API does (reference §5, §8)."""
    token = rest.require_session(token)
    return answer(token.user, fields=parse(query), version=version)


def parse(query: str) -> list[str]:
    """Return the selected fields in Salesforce's spelling, or raise the error Salesforce would.

    Keywords and field names are case-insensitive, as in SOQL; fields are separated by commas with any
    whitespace around them. Anything beyond ``SELECT … FROM UserPermissionAccess`` is refused as
    ``MALFORMED_QUERY``: the emulator does not pretend to run other queries. So is a statement longer than
    Salesforce's limit. The parse is linear in the query's length, however the whitespace is spread.
    """
    if len(query) > MAX_SOQL_LENGTH:
        raise RestError(400, "MALFORMED_QUERY", f"SOQL statements cannot be longer than {MAX_SOQL_LENGTH} characters")
    tokens = _TOKEN_RE.findall(query)
    if (
        len(tokens) < 4
        or tokens[0].upper() != "SELECT"
        or tokens[-2].upper() != "FROM"
        or tokens[-1].lower() != ENTITY.lower()
    ):
        raise _malformed(query)
    # Between SELECT and FROM: name, then any number of ", name".
    field_list = tokens[1:-2]
    names, separators = field_list[0::2], field_list[1::2]
    if len(field_list) % 2 == 0 or any(sep != "," for sep in separators) or not all(map(_FIELD_RE.match, names)):
        raise _malformed(query)
    fields: list[str] = []
    for name in names:
        field = _FIELDS.get(name.lower())
        if field is None:
            raise RestError(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{ENTITY}'. If you are attempting to use a custom "
                "field, be sure to append the '__c' after the custom field name. Please reference your "
                "WSDL or the describe call for the appropriate names.",
            )
        if field in fields:
            raise RestError(400, "MALFORMED_QUERY", f"duplicate field selected: {field}")
        fields.append(field)
    return fields


def answer(user: SalesforceUser, *, fields: list[str], version: str) -> dict[str, Any]:
    """Build the query result for the user: one record with exactly the selected fields.

    A user without API Enabled still gets an answer here, with ``PermissionsApiEnabled`` false. Real
    Salesforce refuses such a user every REST call (``API_DISABLED_FOR_ORG``, which the emulator gives
    for an org with the API off and through the ``api_disabled`` fault); answering lets the portal's
    permission check name the missing permission in tests.
    """
    record: dict[str, Any] = {
        "attributes": {"type": ENTITY, "url": f"/services/data/v{version}/sobjects/{ENTITY}/{RECORD_ID}"}
    }
    for field in fields:
        record[field] = RECORD_ID if field == "Id" else user.has_permission(field)
    return {"totalSize": 1, "done": True, "records": [record]}


def _malformed(query: str) -> RestError:
    return RestError(
        400,
        "MALFORMED_QUERY",
        f"unexpected query: {query.strip()[:200]!r}; the emulator answers only {_SUPPORTED}",
    )
