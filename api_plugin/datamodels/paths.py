"""Ids in request paths: plain decimals within int64.

FastAPI's `int` accepts what Python's `int()` does (`+1`, ` 1`, `1_0`; `1.0` was a 400 but `²`
failed late), and an integer past the databases' BIGINT reached the SQL as a 500. An id here is
what the API hands out: ASCII digits, no sign, no leading zero. Anything else is malformed (400,
naming the parameter); a well-formed number past 2^63 - 1 names no plan or context (404).
"""

from __future__ import annotations

from taskcenter.domain.errors import InvalidInputError, NotFoundError
from taskcenter.domain.limits import MAX_ID


def parse_path_id(text: str, *, field: str, what: str) -> int:
    """The id `text` names (`what`: "plan" or "context", for the messages)."""
    if not (text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))):
        raise InvalidInputError(f"{field}: a {what} id is a whole number without sign or leading zeros", field=field)
    if len(text) > len(str(MAX_ID)) or int(text) > MAX_ID:
        raise NotFoundError(f"{field}: no {what} with id {text[:40]}", field=field)
    return int(text)
