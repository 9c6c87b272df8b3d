"""`taskcenter cron next`: preview Quartz fire times, for people and for scripts.

    taskcenter cron next --tz Asia/Shanghai -n 3 "0 0 9 ? * MON-FRI"
    printf '0 0 9 ? * MON-FRI\tAsia/Shanghai\t2026-01-01T00:00:00+08:00\t3\n' | taskcenter cron next

The stdin form answers one line per input line: the fire times comma-joined, `END` appended when
the schedule has fewer than n left, or `INVALID: <reason>`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone, tzinfo
from typing import TextIO

from taskcenter.domain.cron import CronError, QuartzCron, parse_zone

DEFAULT_ZONE = "Asia/Shanghai"
END = "END"


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    nxt.add_argument("-n", type=int, default=5, help="how many fire times (default 5)")
    nxt.add_argument("--after", help="start instant, ISO-8601 (default: now); fire times are strictly after it")
    nxt.set_defaults(func=run_next)


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
        n = int(count)
        if n < 1:
            raise ValueError
    except ValueError:
        return f"INVALID: n must be a positive integer, got {count!r}"
    try:
        cron = cache.get(expression) if cache is not None else None
        if cron is None:
            cron = QuartzCron.parse(expression)
            if cache is not None:
                cache[expression] = cron
        zone = parse_zone(zone_id)
        times = cron.next_fire_times(_parse_instant(start, zone), zone, n)
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
    if args.n < 1:
        print("taskcenter cron next: -n must be at least 1", file=sys.stderr)
        return 2
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
