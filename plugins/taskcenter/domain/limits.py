"""What a request may hold: bounds that both databases and a generated DAG file can keep.

Strings are bounded by the columns that store them (PostgreSQL refuses a longer value where SQLite
would keep it); no string may hold NUL (PostgreSQL's text refuses it) or a lone UTF-16 surrogate
(no UTF-8 encoding exists, so neither the database nor the DAG file could take it). `jobParams` is
plain JSON data, bounded in size and depth: it is written into the plan's DAG file as a Python
literal (CPython's parser stops at 200 nested brackets) and copied into every run's record.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_ID = 2**63 - 1  # BIGINT, both databases
MIN_INT = -(2**63)

ENTITY_GROUP_LENGTH = 32
ENTITY_KEY_LENGTH = 128
JOB_CLASS_LENGTH = 255
CRON_DESC_LENGTH = 255
CRON_TYPE_LENGTH = 16
TIME_ZONE_LENGTH = 64
TRIGGER_TYPE_LENGTH = 16
TITLE_LENGTH = 255
DATETIME_TEXT_LENGTH = 32
QUERY_TEXT_LENGTH = 255

MAX_PLAN_ITEMS = 100
MAX_UPSTREAMS = 100
MAX_JOB_PARAMS_BYTES = 64 * 1024
MAX_JOB_PARAMS_DEPTH = 16
MAX_BODY_BYTES = 1024 * 1024


def text_problem(value: str, *, max_length: int | None = None) -> str | None:
    """Why this string cannot be stored (None: it can); `max_length`: its column's."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone UTF-16 surrogates)"
    if max_length is not None and len(value) > max_length:
        return f"at most {max_length} characters"
    return None


def json_problem(value: Any, *, depth: int = 0) -> str | None:
    """Why this JSON value cannot be a plan's `jobParams` content (None: it can)."""
    if depth > MAX_JOB_PARAMS_DEPTH:
        return f"nested deeper than {MAX_JOB_PARAMS_DEPTH} levels"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if MIN_INT <= value <= MAX_ID else "integers must fit in 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else "numbers must be finite (no NaN or Infinity)"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, list):
        return next((p for item in value if (p := json_problem(item, depth=depth + 1))), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return "keys must be strings"
            problem = text_problem(key) or json_problem(item, depth=depth + 1)
            if problem:
                return problem
        return None
    return f"{type(value).__name__} is not a JSON value"


def job_params_problem(params: dict[str, Any]) -> str | None:
    """Why these `jobParams` are refused (None: accepted): JSON data, within depth and size."""
    problem = json_problem(params)
    if problem:
        return problem
    size = len(json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_JOB_PARAMS_BYTES:
        return f"{size} bytes of JSON; at most {MAX_JOB_PARAMS_BYTES}"
    return None
