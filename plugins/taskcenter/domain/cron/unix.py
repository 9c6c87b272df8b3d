"""5-field Unix cron, normalized to the equivalent Quartz expression.

    Unix:   minute hour day-of-month month day-of-week      (day-of-week 0-7, 0 and 7 = Sunday)
    Quartz: 0 minute hour day-of-month month day-of-week     (day-of-week 1-7, 1 = Sunday)

* a seconds field `0` is prepended;
* day-of-week numbers are shifted by one (`0`/`7` -> `1`, `1-5` -> `2-6`, `5-7` -> `6-1`, which
  Quartz reads as the wrap-around FRI-SUN; `*/2` keeps its meaning because both sides shift);
  names are kept;
* Quartz needs `?` in exactly one day field: a `*` day-of-week becomes `?`; else a `*`
  day-of-month becomes `?`. Unix fires when *either* restricted day field matches, which Quartz
  cannot express, so restricting both is rejected;
* the macros `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly` map to
  their 5-field forms first.
"""

from __future__ import annotations

import re

from taskcenter.domain.cron.errors import CronSyntaxError

MACROS = {
    "@YEARLY": "0 0 1 1 *",
    "@ANNUALLY": "0 0 1 1 *",
    "@MONTHLY": "0 0 1 * *",
    "@WEEKLY": "0 0 * * 0",
    "@DAILY": "0 0 * * *",
    "@MIDNIGHT": "0 0 * * *",
    "@HOURLY": "0 * * * *",
}
_DOW_NUMBER = re.compile(r"(?<![A-Z#])(\d+)")


def split_fields(text: str) -> list[str]:
    """Fields as Quartz separates them: by spaces and tabs only."""
    return [part for part in re.split(r"[ \t]+", text) if part]


def is_unix(text: str) -> bool:
    stripped = text.strip()
    return stripped.upper() in MACROS or len(split_fields(stripped)) == 5


def _shift_day_of_week(item: str) -> str:
    base, slash, step = item.partition("/")
    start, dash, end = base.partition("-")
    if dash and start.isdigit() and end.isdigit() and int(start) == 0 and int(end) == 7:
        shifted = "*"
    else:
        shifted = _DOW_NUMBER.sub(lambda m: str(int(m.group(1)) % 7 + 1) if int(m.group(1)) <= 7 else m.group(1), base)
    return shifted + slash + step


def to_quartz(text: str) -> str:
    """The Quartz form of a 5-field Unix cron expression (or macro)."""
    stripped = text.strip()
    unix = MACROS.get(stripped.upper(), stripped)
    minute, hour, day_of_month, month, day_of_week = split_fields(unix)
    if day_of_week == "*" or day_of_week == "?":
        day_of_week = "?"
    elif day_of_month in ("*", "?"):
        day_of_month = "?"
        day_of_week = ",".join(_shift_day_of_week(item) for item in day_of_week.upper().split(","))
    else:
        raise CronSyntaxError(
            field="day-of-month",
            reason=(
                "a 5-field cron restricting both day-of-month and day-of-week fires when either matches, "
                "which Quartz cannot express; use '*' in one of them or a 6-field Quartz expression"
            ),
        )
    return " ".join(("0", minute, hour, day_of_month, month, day_of_week))
