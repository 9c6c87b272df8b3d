"""Errors of the cron engine. All are `ValueError`s, so callers at the edge can treat them as bad input."""

from __future__ import annotations


class CronError(ValueError):
    """Base of every cron engine error: a bad expression, a bad zone, or no computable fire time."""


class CronSyntaxError(CronError):
    """An expression Quartz would reject; `field` names the field ("expression" when it is the whole)."""

    def __init__(self, *, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidZoneError(CronError):
    """A time zone id that is neither an IANA id nor UTC/GMT/GMT±H[H][:MM]/GMT±HHMM."""

    def __init__(self, zone: str, reason: str = "unknown time zone") -> None:
        super().__init__(
            f"{reason} {zone!r} (use an IANA id such as Asia/Shanghai, UTC, or GMT+8 / GMT+08:00 / GMT+0800)"
        )
        self.zone = zone
