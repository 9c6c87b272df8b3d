"""`taskcenter cron next`: preview Quartz fire times, for people and for scripts.

    taskcenter cron next --tz Asia/Shanghai -n 3 "0 0 9 ? * MON-FRI"
    printf '0 0 9 ? * MON-FRI\tAsia/Shanghai\t2026-01-01T00:00:00+08:00\t3\n' | taskcenter cron next

The stdin form answers one line per input line: the fire times comma-joined, `END` appended when
the schedule has fewer than n left, or `INVALID: <reason>`. It reads its fields as the Java driver
of the differential test does (tests/component/domain/cron/quartz_driver/): start and n trimmed as
Java's `String.trim()` trims, start an ISO-8601 date-time *with* an offset (`java.time`'s
`ISO_OFFSET_DATE_TIME`), n a positive integer in plain decimal digits.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TextIO

from taskcenter.domain.cron import CronError, QuartzCron, parse_zone

DEFAULT_ZONE = "Asia/Shanghai"
END = "END"
# What java.time's ISO_OFFSET_DATE_TIME parses (the driver's grammar): a 4-digit year, 'T' (any
# case), hh:mm[:ss[.fraction up to 9 digits]], then Z or an offset +hh[:mm[:ss]] up to 18:00.
_START = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{0,9}))?)?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<oh>[0-9]{2})(?::(?P<om>[0-9]{2})(?::(?P<os>[0-9]{2}))?)?)",
    re.ASCII,
)
_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9:.]*)?", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_MAX_OFFSET = timedelta(hours=18)
_INT_MAX = 2**31 - 1  # Java's Integer.parseInt limit
_JAVA_TRIM = "".join(chr(c) for c in range(33))  # what Java's String.trim() removes


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cron = subparsers.add_parser("cron", help="Quartz cron tools")
    cron_commands = cron.add_subparsers(dest="cron_command", required=True)
    nxt = cron_commands.add_parser(
        "next",
        help="print the next fire times of a Quartz (or 5-field Unix) expression",
        description=(
            "Print the next fire times of EXPR, one per line, ISO-8601 with the zone's offset. "
            "Without EXPR, read 'expr<TAB>zone<TAB>start<TAB>n' lines on stdin and answer one line each."
        ),
    )
    nxt.add_argument("expression", nargs="?", metavar="EXPR", help="Quartz expression, e.g. '0 0 9 ? * MON-FRI'")
    nxt.add_argument("--tz", default=DEFAULT_ZONE, help=f"time zone id (default {DEFAULT_ZONE})")
    nxt.add_argument("-n", type=_count_argument, default=5, help="how many fire times, at least 1 (default 5)")
    nxt.add_argument("--after", help="start instant, ISO-8601 (default: now); fire times are strictly after it")
    nxt.set_defaults(func=run_next)


def parse_count(text: str) -> int:
    """n of the protocol: plain decimal digits, 1 to Java's int maximum (no sign, no `_`)."""
    digits = text.strip(_JAVA_TRIM)
    if not _DIGITS.fullmatch(digits) or not 1 <= int(digits) <= _INT_MAX:
        raise ValueError(f"n must be a positive integer in plain decimal digits, got {text!r}")
    return int(digits)


def _count_argument(text: str) -> int:
    try:
        return parse_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("n must", "must", 1)) from None


def parse_start(text: str) -> datetime:
    """start of the protocol: ISO-8601 with an offset, as the driver reads it; ValueError naming start."""
    start = text.strip(_JAVA_TRIM)
    match = _START.fullmatch(start)
    if match is None:
        if _NAIVE.fullmatch(start):
            raise ValueError(
                f"start {text!r} has no UTC offset; write it ISO-8601 with one, e.g. 2025-01-01T00:00:00+08:00"
            )
        raise ValueError(f"start {text!r} is not an ISO-8601 date-time with an offset (e.g. 2025-01-01T00:00:00+08:00)")
    offset = timedelta(0)
    if match["sign"]:
        offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"] or 0), seconds=int(match["os"] or 0))
        if offset > _MAX_OFFSET or int(match["om"] or 0) > 59 or int(match["os"] or 0) > 59:
            raise ValueError(f"start {text!r} has an offset out of range (at most +-18:00)")
        offset = -offset if match["sign"] == "-" else offset
    fields = (match["year"], match["month"], match["day"], match["hour"], match["minute"], match["second"] or "0")
    try:
        year, month, day, hour, minute, second = (int(value) for value in fields)
        return datetime(
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond=int((match["fraction"] or "").ljust(6, "0")[:6]),
            tzinfo=timezone(offset),
        )
    except ValueError:
        raise ValueError(f"start {text!r} is not a valid date-time") from None


def _parse_instant(text: str, zone: tzinfo) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"start {text!r} is not an ISO-8601 date-time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def _format(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def answer_line(line: str, *, cache: dict[str, QuartzCron] | None = None) -> str:
    """The answer to one `expr<TAB>zone<TAB>start<TAB>n` line."""
    parts = line.split("\t")
    if len(parts) != 4:
        return "INVALID: expected 4 tab-separated fields: expr, zone, start, n"
    expression, zone_id, start, count = parts
    try:
        n = parse_count(count)
        after = parse_start(start)
        cron = cache.get(expression) if cache is not None else None
        if cron is None:
            cron = QuartzCron.parse(expression)
            if cache is not None:
                cache[expression] = cron
        zone = parse_zone(zone_id)
        times = cron.next_fire_times(after, zone, n)
    except (CronError, ValueError) as exc:
        return f"INVALID: {exc}"
    answer = [_format(at) for at in times]
    if len(answer) < n:
        answer.append(END)
    return ",".join(answer)


def answer_lines(lines: Iterable[str]) -> Iterator[str]:
    cache: dict[str, QuartzCron] = {}
    for line in lines:
        line = line.rstrip("\r\n")
        yield answer_line(line, cache=cache) if line else ""


def run_next(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if args.expression is None:
        for answer in answer_lines(stdin):
            stdout.write(answer + "\n")
        stdout.flush()
        return 0
    try:
        zone = parse_zone(args.tz)
        cron = QuartzCron.parse(args.expression)
        after = _parse_instant(args.after, zone) if args.after else datetime.now(timezone.utc)
        times = cron.next_fire_times(after, zone, args.n)
    except (CronError, ValueError) as exc:
        print(f"taskcenter cron next: {exc}", file=sys.stderr)
        return 2
    if cron.expression != args.expression.strip():
        # stderr: stdout carries only fire times, so scripts can read it as is
        print(f"# as Quartz: {cron.expression}", file=sys.stderr)
    for at in times:
        print(_format(at), file=stdout)
    if len(times) < args.n:
        print(END, file=stdout)
    return 0
