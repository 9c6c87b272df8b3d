"""Shared wire formats."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_datetime(value: datetime | None, *, zone: tzinfo) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` in the display zone (`[taskcenter] display_timezone`; naive values are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(zone).strftime(DATETIME_FORMAT)
