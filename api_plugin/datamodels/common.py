"""Shared wire formats."""

from __future__ import annotations

from datetime import datetime, timezone

from taskcenter.adapters.config import display_zone

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_datetime(value: datetime | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` in the configured display zone (naive values are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(display_zone()).strftime(DATETIME_FORMAT)
