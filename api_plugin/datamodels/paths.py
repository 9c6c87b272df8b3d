"""Ids in request paths: plain decimals within int64, else no such plan or context (404).

FastAPI's `int` accepts what Python's `int()` does (`+1`, ` 1`, `1_0`, `²` fails late), and an
integer past the databases' BIGINT reached the SQL as a 500. An id here is what the API hands out:
ASCII digits, no sign, no padding beyond one `0`, at most 2^63 - 1.
"""

from __future__ import annotations

from taskcenter.domain.errors import NotFoundError

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_path_id(text: str, *, field: str, what: str) -> int:
    """The id `text` names, or NotFoundError (`what`: "plan" or "context", for the message)."""
    if text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS and (text == "0" or not text.startswith("0")):
        value = int(text)
        if value <= MAX_ID:
            return value
    raise NotFoundError(f"{field}: no {what} with id {text[:40]!r}", field=field)
