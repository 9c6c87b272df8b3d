"""5-field Unix cron, normalized to the equivalent Quartz expression.

    Unix:   minute hour day-of-month month day-of-week      (day-of-week 0-7, 0 and 7 = Sunday)
    Quartz: 0 minute hour day-of-month month day-of-week     (day-of-week 1-7, 1 = Sunday)

* a seconds field `0` is prepended;
* day-of-week values keep cronie's meaning, written in Quartz's numbering: numbers shift by one
  (`0`/`7` -> `1`, `1-5` -> `2-6`, `5-7` -> `6-1`, which Quartz reads as the wrap-around FRI-SUN;
  `*/2` keeps its meaning because both sides shift), `n/step` is `n-7/step` (`1/2` -> `2-1/2`:
  Mon, Wed, Fri, Sun), names become numbers so that they step like numbers;
* Quartz needs `?` in exactly one day field: a `*` day-of-week becomes `?`; else a `*`
  day-of-month becomes `?`. Unix fires when *either* restricted day field matches, which Quartz
  cannot express, so restricting both is rejected;
* the macros `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly` map to
  their 5-field forms first.

Errors speak the user's dialect: a `UnixCron` remembers what was written, so a message names the
Unix field (`day-of-week (Unix field 5)`) and quotes the user's value, not its Quartz translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskcenter.domain.cron.errors import CronSyntaxError
from taskcenter.domain.cron.fields import Field

MACROS = {
    "@YEARLY": "0 0 1 1 *",
    "@ANNUALLY": "0 0 1 1 *",
    "@MONTHLY": "0 0 1 * *",
    "@WEEKLY": "0 0 * * 0",
    "@DAILY": "0 0 * * *",
    "@MIDNIGHT": "0 0 * * *",
    "@HOURLY": "0 * * * *",
}
_DOW_NUMBER = re.compile(r"(?<![A-Z#0-9])([0-9]+)")
_DAY_NUMBERS = {name: number for number, name in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_DOW_RANGE = re.compile(r"(?P<start>[0-9]+|[A-Z]{3})(?:-(?P<end>[0-9]+|[A-Z]{3}))?(?:/(?P<step>[0-9]+))?", re.ASCII)
_DOW_SUFFIXED = re.compile(r"(?P<day>[0-9]+|[A-Z]{3})(?P<suffix>L|#.*)", re.ASCII)
_MAX_DOW_STEP = 7  # Quartz's largest step after '*' or a single day-of-week
# The Unix name and position of each Quartz field a 5-field cron fills (seconds is always `0`).
_UNIX_FIELDS = {
    Field.MINUTE: ("minute", 1),
    Field.HOUR: ("hour", 2),
    Field.DAY_OF_MONTH: ("day-of-month", 3),
    Field.MONTH: ("month", 4),
    Field.DAY_OF_WEEK: ("day-of-week", 5),
}


def unix_label(field: Field) -> str:
    """How error messages name a field of a 5-field cron: its Unix name and position."""
    name, position = _UNIX_FIELDS.get(field, (field.label, 0))
    return f"{name} (Unix field {position})" if position else name


@dataclass(frozen=True)
class UnixCron:
    """A 5-field Unix cron: its Quartz form, and the user's text of each Quartz field it fills."""

    quartz: str
    written: tuple[str, ...]  # indexed by Field, as Quartz's fields; `0` for the seconds

    def label(self, field: Field) -> str:
        return unix_label(field)


def split_fields(text: str) -> list[str]:
    """Fields as Quartz separates them: by spaces and tabs only."""
    return [part for part in re.split(r"[ \t]+", text) if part]


def is_unix(text: str) -> bool:
    stripped = text.strip()
    return stripped.upper() in MACROS or len(split_fields(stripped)) == 5


def _check_day_numbers(item: str, written: str) -> None:
    """Unix day-of-week numbers are 0-7; say so in Unix terms before Quartz (1-7) sees them."""
    base = item.partition("/")[0]
    for match in _DOW_NUMBER.finditer(base):
        if int(match[1]) > 7:
            raise CronSyntaxError(
                field=unix_label(Field.DAY_OF_WEEK),
                reason=f"values must be between 0 and 7 (0 and 7 are Sunday) (in '{written}')",
            )


def _unix_day(token: str) -> int | None:
    """A Unix day-of-week number (0-7) or 3-letter name (SUN = 0), else None."""
    return int(token) if token.isdigit() else _DAY_NUMBERS.get(token)


def _quartz_day(day: int) -> int:
    return day % 7 + 1


def _shift_day_of_week(item: str) -> str:
    """One upper-case Unix day-of-week value in Quartz's numbering, with cronie's meaning.

    Ranges and steps are computed on Unix days and written as the Quartz range that yields the
    same days: `1-7/2` (Mon, Wed, Fri, Sun) becomes the wrap-around `2-1/2`, and `n/step` means
    `n-7/step` as in cronie, so `1/2` includes Sunday too. Names become numbers first, so that
    `MON/2` and `MON-FRI/2` step as their numbers do (Quartz drops a step after a name). What is
    none of these forms keeps the old shift-every-number rule and Quartz's verdict.
    """
    match = _DOW_RANGE.fullmatch(item)
    if match is not None:
        start, end = _unix_day(match["start"]), None if match["end"] is None else _unix_day(match["end"])
        step = match["step"]
        if start is not None and (end is not None or match["end"] is None):
            if end is None and step is None:
                return str(_quartz_day(start))
            if end is None:
                if int(step) > _MAX_DOW_STEP:  # as Quartz's n/step: let it say the step is too large
                    return f"{_quartz_day(start)}/{step}"
                end = 7
            suffix = "" if step is None else f"/{step}"
            if (start, end) == (0, 7):
                return "*" + suffix if step is None or int(step) <= _MAX_DOW_STEP else "1-7" + suffix
            return f"{_quartz_day(start)}-{_quartz_day(end)}{suffix}"
    match = _DOW_SUFFIXED.fullmatch(item)
    if match is not None and (day := _unix_day(match["day"])) is not None:
        return f"{_quartz_day(day)}{match['suffix']}"
    base, slash, step = item.partition("/")
    shifted = _DOW_NUMBER.sub(lambda m: str(_quartz_day(int(m[1]))) if int(m[1]) <= 7 else m[1], base)
    return shifted + slash + step


def convert(text: str) -> UnixCron:
    """The Quartz form of a 5-field Unix cron expression (or macro); `CronSyntaxError` in Unix terms."""
    stripped = text.strip()
    unix = MACROS.get(stripped.upper(), stripped)
    written = split_fields(unix)
    minute, hour, day_of_month, month, day_of_week = written
    if day_of_week == "*" or day_of_week == "?":
        day_of_week = "?"
    elif day_of_month in ("*", "?"):
        day_of_month = "?"
        items = []
        for item, as_written in zip(day_of_week.upper().split(","), day_of_week.split(","), strict=True):
            _check_day_numbers(item, as_written)
            items.append(_shift_day_of_week(item))
        day_of_week = ",".join(items)
    else:
        raise CronSyntaxError(
            field=f"{unix_label(Field.DAY_OF_MONTH)} and {unix_label(Field.DAY_OF_WEEK)}",
            reason=(
                "a 5-field cron restricting both day-of-month and day-of-week fires when either matches, "
                "which Quartz cannot express; use '*' in one of them or a 6-field Quartz expression"
            ),
        )
    return UnixCron(
        quartz=" ".join(("0", minute, hour, day_of_month, month, day_of_week)),
        written=("0", *written),
    )


def to_quartz(text: str) -> str:
    """The Quartz form of a 5-field Unix cron expression (or macro)."""
    return convert(text).quartz
