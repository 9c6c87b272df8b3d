"""Generates the differential-test corpus: Quartz cron cases the real Quartz 2.3.2 jar answers.

    python tests/component/domain/cron/corpus/generate_corpus.py            # write corpus.tsv + labels.tsv
    python tests/component/domain/cron/corpus/generate_corpus.py --check    # ... and verify them with the jar

Standard library only, deterministic (fixed seed; DST transitions are found with `zoneinfo`, so
regenerating on a machine with a different tzdata may move a few DST cases). The output is generated
once and checked in; regenerate only when the corpus itself should change, then run `--check`.

Files (same line count, line i of one describes line i of the other):

- `corpus.tsv`: the protocol's input lines, `expr<TAB>zone<TAB>start<TAB>n` (feed it as is to the
  Quartz driver or to `taskcenter cron next`);
- `labels.tsv`: `kind<TAB>tags`, kind being `valid`, `invalid-expr` or `invalid-zone` (what the
  real jar says, verified by `--check`), tags a comma-separated list of what the case covers
  (`dst-gap`, `wrap`, `nth`, `quirk`, ...), used by the coverage test.

`--check` compiles `../quartz_driver/QuartzDriver.java`, runs it over the corpus and verifies that
every case's kind is what Quartz says, that no answer depends on the day the test runs (Quartz stops
searching at the current year + 100, so every fire time must stay below 2116 and an `END` may only
come from a year field or a schedule that never fires), and that Quartz never crashed or hung.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

SEED = 20230312
HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus.tsv"
LABELS = HERE / "labels.tsv"
DEVIATIONS = HERE / "deviations.tsv"
DRIVER = HERE.parent / "quartz_driver" / "QuartzDriver.java"
QUARTZ_JARS = ("/usr/share/java/quartz2.jar", "/usr/share/java/quartz2-2.3.2.jar")

# Latest fire time allowed in the corpus: Quartz gives up past the current year + 100 (2126 when
# this was written), so answers reaching beyond that would change with the date the test runs.
LAST_SAFE_YEAR = 2115

rng = random.Random(SEED)


@dataclass
class Case:
    expr: str
    zone: str
    start: str
    n: int
    kind: str = "valid"  # valid | invalid-expr | invalid-zone
    tags: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.expr}\t{self.zone}\t{self.start}\t{self.n}"


CASES: list[Case] = []


def deviation_zones() -> frozenset[str]:
    """Zones of deviations.tsv: where we follow the tz database and Quartz on Java 17 does not.

    The corpus demands exact agreement with Quartz, so it must never contain them; their cases
    are pinned in deviations.tsv instead (see docs/cron.md). The zones below are all picked from
    fixed lists, and `add` refuses these whatever a list says.
    """
    rows = (line.split("\t") for line in DEVIATIONS.read_text(encoding="utf-8").splitlines())
    return frozenset(row[1] for row in rows if len(row) > 1 and not row[0].startswith("#"))


DEVIATION_ZONES = deviation_zones()


def add(expr: str, zone: str, start: str, n: int, *tags: str, kind: str = "valid") -> None:
    assert "\t" not in expr and "\n" not in expr, expr
    assert zone not in DEVIATION_ZONES, f"{zone} has a documented deviation from Quartz on Java 17 (deviations.tsv)"
    tags_list = list(dict.fromkeys(tags))
    if len(expr.split()) >= 7 and "year" not in tags_list:
        tags_list.append("year")
    CASES.append(Case(expr, zone, start, n, kind, tags_list))


# --------------------------------------------------------------------------------------------
# zones and instants

DST_ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Tehran",
    "America/Sao_Paulo",
    "Africa/Cairo",
    "America/Havana",
]
PLAIN_ZONES = [
    "UTC",
    "GMT",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Europe/Moscow",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/St_Johns",
    "Australia/Adelaide",
    "Australia/Eucla",
    "America/Los_Angeles",
    "Europe/Paris",
    "Etc/GMT-14",
    "Etc/GMT+12",
]
ALIAS_ZONES = ["US/Eastern", "Asia/Calcutta", "GMT0", "Zulu", "UCT", "EST5EDT", "Etc/UTC"]
FIXED_ZONES = [
    "GMT+8",
    "GMT+08",
    "GMT+08:00",
    "GMT+0800",
    "GMT-03:30",
    "GMT-3:30",
    "GMT+0545",
    "GMT+5:45",
    "GMT-0530",
    "GMT+830",
    "GMT+0",
    "GMT-0",
    "GMT+14",
    "GMT-12",
    "GMT-00:30",
    "GMT+23:59",
    "GMT-23",
]
COMMON_ZONES = PLAIN_ZONES + DST_ZONES[:6] + FIXED_ZONES[:8]


def zone_tz(zone: str) -> tzinfo:
    """The zone as Java reads it (IANA, UTC/GMT, or GMT+-H[H][[:]MM])."""
    if zone in ("UTC", "GMT"):
        return timezone.utc
    m = re.fullmatch(r"GMT([+-])(?:(\d{1,2}):(\d{2})|(\d{1,4}))", zone)
    if m:
        if m[4] is not None:
            digits = m[4]
            hours, minutes = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
        else:
            hours, minutes = int(m[2]), int(m[3])
        offset = timedelta(hours=hours, minutes=minutes)
        return timezone(-offset if m[1] == "-" else offset)
    return ZoneInfo(zone)


def iso(instant: datetime, tz: tzinfo) -> str:
    """`instant` as ISO-8601 with the offset `tz` has at that instant (never `Z`)."""
    text = instant.astimezone(tz).isoformat(timespec="seconds")
    return text.replace("Z", "+00:00")


def iso_offset(instant: datetime, offset: timedelta) -> str:
    return iso(instant, timezone(offset))


def local(zone: str, *fields: int, fold: int = 0) -> datetime:
    """A wall time in `zone` as an aware datetime (fold 0 = the earlier one in an overlap)."""
    return datetime(*fields, tzinfo=zone_tz(zone), fold=fold)  # type: ignore[misc]


def random_start(zone: str, year_lo: int = 2000, year_hi: int = 2090) -> str:
    year = rng.randint(year_lo, year_hi)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    hour, minute, second = rng.randint(0, 23), rng.choice([0, 0, 0, 15, 30, 59]), rng.choice([0, 0, 0, 1, 30, 59])
    moment = local(zone, year, month, day, hour, minute, second)
    if rng.random() < 0.15 or abs(moment.utcoffset()) > timedelta(hours=18):  # type: ignore[arg-type]
        # sometimes the start is written in another offset (same instant); always when the zone's
        # offset is beyond +-18:00, which java.time (the driver's ISO parser) cannot represent
        return iso(moment, timezone.utc)
    return iso(moment, zone_tz(zone))


def random_n() -> int:
    return rng.choice([1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 6, 7, 8, 10])


def transitions(zone: str, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant in UTC, offset before, offset after) for each offset change of `zone` in `year`."""
    tz = ZoneInfo(zone)
    found = []
    t = datetime(year, 1, 1, tzinfo=timezone.utc) - timedelta(hours=14)
    end = datetime(year + 1, 1, 1, tzinfo=timezone.utc) + timedelta(hours=14)
    prev = t.astimezone(tz).utcoffset()
    while t < end:
        nxt = t + timedelta(hours=1)
        off = nxt.astimezone(tz).utcoffset()
        if off != prev:
            lo, hi = t, nxt  # offset(lo) == prev, offset(hi) == off
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            if hi.astimezone(tz).year == year:
                found.append((hi, prev, off))
            prev = off
        t = nxt
    return found


# --------------------------------------------------------------------------------------------
# A. every syntax form, hand-written

SYNTAX: dict[str, list[str]] = {
    "star": [
        "* * * * * ?",
        "0 * * * * ?",
        "0 0 * * * ?",
        "0 0 12 * * ?",
        "0 0 12 ? * *",
        "0 0 0 * * ? *",
        "0 0 6 * * ?",
    ],
    "question": ["0 15 10 ? * *", "0 15 10 * * ?", "0 15 10 ? * MON-FRI", "0 0 8 15 * ?", "0 0 12 ? * 4"],
    "list": [
        "0 0,15,30,45 * * * ?",
        "0 0 8,12,18 * * ?",
        "0 0 0 1,15,28 * ?",
        "0 0 9 ? * MON,WED,FRI",
        "0 0 0 1 JAN,APR,JUL,OCT ?",
        "10,20,30 5 4 * * ?",
        "0 0 0 1,31 * ?",
        "0 0 9 ? * 1,7",
        "0 0 6,18 1 1,7 ?",
    ],
    "range": [
        "0 0 9-17 * * ?",
        "0 10-20 * * * ?",
        "0 0 0 10-15 * ?",
        "0 0 0 ? * 2-6",
        "0 0 0 1 3-5 ?",
        "0-5 0 0 * * ?",
        "0 0 12 ? * MON-FRI",
        "0 0 12 1 MAR-MAY ?",
        "0 0 0 25-31 12 ?",
    ],
    "wrap": [
        "0 0 22-2 * * ?",
        "0 0 0 ? * FRI-MON",
        "0 0 0 1 NOV-FEB ?",
        "0 50-10 * * * ?",
        "0 0 0 28-3 * ?",
        "0 0 12 ? * SAT-SUN",
        "0 0 12 ? * 7-1",
        "50-10 * * * * ?",
        "0 0 0 ? * 5-3",
        "0 0 22-2/3 * * ?",
        "0 0 0 1 10-3/2 ?",
        "0 0 0 ? * 6-2",
        "0 0 0 1 12-1 ?",
        "0 0 23-0 * * ?",
        "0 0 0 30-2 * ?",
    ],
    "step": [
        "*/30 * * * * ?",
        "0 */15 * * * ?",
        "0 5/15 * * * ?",
        "0 0 */6 * * ?",
        "0 0 0 */5 * ?",
        "0 0 0 1 */3 ?",
        "0 0 0 ? * */2",
        "0 /5 * * * ?",
        "0 0 /4 * * ?",
        "0 10-40/10 * * * ?",
        "0 0 8-18/2 * * ?",
        "0 0 0 2/7 * ?",
        "0 0 12 1 2/4 ?",
        "0 0 0 ? * 2/3",
        "15/20 * * * * ?",
        "0 0 0 ? * 1-7/2",
        "0 0 0 1 JAN/3 ?",
        "0 0 0 ? * MON/2",
        "0 0/45 * * * ?",
        "0 0 5/7 * * ?",
    ],
    "names": [
        "0 0 9 ? * mon-fri",
        "0 0 9 ? * Mon,Wed",
        "0 0 0 1 jan-Mar ?",
        "0 0 12 ? DEC SUN",
        "0 0 0 ? Feb,aug tHU",
        "0 30 6 ? * sat",
        "0 0 0 1 nov ?",
        "0 0 0 ? sep-oct Tue-Thu",
        "0 0 0 15 Jun,JUL,aug ?",
        "0 0 0 ? * SUN,sat",
    ],
    "last-day": [
        "0 0 0 L * ?",
        "0 0 18 L * ?",
        "0 0 0 L 2 ?",
        "0 0 0 L-3 * ?",
        "0 0 0 L-1 * ?",
        "0 0 0 L-15 * ?",
        "0 0 0 L-28 * ?",
        "0 0 0 L-30 * ?",
        "0 0 0 L-0 * ?",
        "0 0 0 l * ?",
        "59 59 23 L * ?",
    ],
    "weekday": [
        "0 0 0 15W * ?",
        "0 0 0 1W * ?",
        "0 0 0 31W * ?",
        "0 0 0 30W * ?",
        "0 0 9 5W * ?",
        "0 0 0 28W 2 ?",
        "0 0 0 29W 2 ?",
        "0 0 0 2W * ?",
        "0 0 0 15w * ?",
    ],
    "last-weekday": ["0 0 0 LW * ?", "0 0 17 LW * ?", "0 30 9 lw * ?", "0 0 0 LW 2 ?"],
    "last-dow": [
        "0 0 0 ? * 6L",
        "0 0 0 ? * FRIL",
        "0 0 0 ? * 1L",
        "0 0 12 ? * 2L",
        "0 0 0 ? * L",
        "0 0 0 ? * friL",
        "0 0 0 ? 2 7L",
        "0 0 0 ? * 5L",
    ],
    "nth": [
        "0 0 0 ? * 6#3",
        "0 0 0 ? * 2#5",
        "0 0 0 ? * 1#1",
        "0 0 10 ? * MON#2",
        "0 0 0 ? * 7#5",
        "0 0 0 ? * 3#4",
        "0 0 0 ? * fri#1",
        "0 0 0 ? * 4#5",
        "0 30 8 ? 1,7 2#1",
    ],
    "seconds": [
        "*/7 * * * * ?",
        "0/20 * * * * ?",
        "*/1 * * * * ?",
        "5-10 * * * * ?",
        "0,30 * * * * ?",
        "*/13 */7 * * * ?",
        "*/45 * * * * ?",
        "59 * * * * ?",
        "3/17 * * * * ?",
        "10-50/20 * * * * ?",
        "58-2 * * * * ?",
    ],
    "mixed": [
        "0 0/15 9-17 ? * MON-FRI",
        "0 30 8 ? * 2#1 2027",
        "0 0 2 L * ?",
        "30 45 23 ? * 7L",
        "0 0 12 LW 1,4,7,10 ?",
        "0 0 6 15W 3-5 ?",
        "0 0 0 1-7 * ?",
        "0 15 10 ? * 6#3",
        "0 0/5 14,18 * * ?",
        "0 0-5 14 * * ?",
        "0 10,44 14 ? 3 WED",
        "0 0 0 ? * SUN 2030-2035",
    ],
}

for tag, exprs in SYNTAX.items():
    for expr in exprs:
        for _ in range(2):
            zone = rng.choice(COMMON_ZONES)
            add(expr, zone, random_start(zone), random_n(), "syntax", tag)

# L-nW: fine away from DST changes (Quartz can loop forever on it around some of them).
for expr in ["0 0 0 L-3W * ?", "0 0 12 L-1W * ?", "0 0 0 L-10W * ?"]:
    for zone in ["UTC", "Asia/Shanghai", "GMT-0530"]:
        add(expr, zone, random_start(zone), random_n(), "syntax", "last-day", "weekday")

# --------------------------------------------------------------------------------------------
# B. the year field, leap years, schedules that end or never fire

YEAR_CASES = [
    ("0 0 0 1 1 ? 2030", 2020, 2035),
    ("0 0 12 * * ? 2025-2027", 2024, 2027),
    ("0 0 0 1 * ? 2030,2035,2040", 2029, 2040),
    ("0 0 0 1 1 ? 2030/5", 2025, 2060),
    ("0 0 0 1 1 ? 2000/10", 2000, 2060),
    ("0 0 0 1 1 ? 2040-2060/4", 2030, 2055),
    ("0 0 0 1 1 ? 2099", 2090, 2098),
    ("0 0 0 1 6 ? 2100", 2095, 2099),
    ("0 0 0 1 1 ? */5", 2001, 2080),
    ("0 0 0 ? * MON 2024", 2024, 2024),
    ("0 0 0 L 12 ? 2050-2052", 2049, 2051),
    ("0 0 9 ? * 2#1 2027", 2026, 2027),
    ("0 0 0 1 1 ? 2035-2033", 2030, 2030),  # wrap-around year range
    ("0 0 0 1 1 ? 2060-2070", 2065, 2069),
    ("*/10 * * * * ? 2042", 2042, 2042),
]
for expr, lo, hi in YEAR_CASES:
    if expr.endswith("2035-2033"):
        continue  # checked below: Quartz rejects a decreasing year range
    for _ in range(2):
        zone = rng.choice(COMMON_ZONES)
        add(expr, zone, random_start(zone, lo, hi), rng.choice([3, 5, 5, 6]), "year")

for expr, start_year in [
    ("0 0 0 1 1 ? 2005", 2010),
    ("0 0 0 * * ? 1970", 2000),
    ("0 0 12 ? * MON-FRI 2019", 2020),
    ("0 0 0 1 1 ? 2020-2022", 2023),
]:
    zone = rng.choice(COMMON_ZONES)
    add(expr, zone, random_start(zone, start_year, start_year), 5, "year", "past-year", "end")

LEAP = [
    ("0 0 0 29 2 ?", 2000, 2070, 5),
    ("0 0 12 29 FEB ?", 2001, 2070, 3),
    ("0 0 0 29 2 ? 2096-2104", 2090, 2096, 3),
    ("0 0 0 L 2 ?", 2000, 2090, 5),
    ("0 0 0 ? 2 1#5", 2000, 2000, 4),
    ("0 0 0 ? 2 2#5", 2000, 2000, 3),
    ("0 0 0 28-29 2 ?", 2000, 2090, 6),
    ("0 0 0 29W 2 ?", 2000, 2080, 5),
    ("0 0 0 L-28 * ?", 2000, 2080, 5),
    ("0 0 0 ? 2 5L", 2000, 2090, 5),
]
for expr, lo, hi, n in LEAP:
    for _ in range(2):
        zone = rng.choice(COMMON_ZONES)
        add(expr, zone, random_start(zone, lo, hi), n, "leap")
add("0 0 0 29 2 ?", "UTC", "2099-03-01T00:00:00+00:00", 2, "leap", "century")
add("0 0 0 29 2 ?", "Asia/Shanghai", "2096-02-29T00:00:00+08:00", 2, "leap", "century")

NEVER = [
    "0 0 0 30 2 ?",
    "0 0 0 31 2 ?",
    "0 0 0 31 4,6,9,11 ?",
    "0 0 0 31W 2 ?",
    "0 0 0 30 FEB ? *",
]
for expr in NEVER:
    zone = rng.choice(COMMON_ZONES)
    add(expr, zone, random_start(zone), rng.choice([1, 5]), "never", "end")

# --------------------------------------------------------------------------------------------
# C. DST transitions: starts before / inside / after each gap and overlap


def wall(instant: datetime, offset: timedelta) -> datetime:
    return (instant + offset).replace(tzinfo=None)


DST_YEARS = {
    "America/New_York": [2025, 2037, 2061],
    "Europe/Berlin": [2024, 2046],
    "Europe/London": [2026, 2079],
    "Australia/Sydney": [2025, 2058],
    "America/Santiago": [2024, 2031],
    "Australia/Lord_Howe": [2024, 2088],
    "Pacific/Chatham": [2027],
    "Asia/Tehran": [2019],
    "America/Sao_Paulo": [2017],
    "Africa/Cairo": [2024],
    "America/Havana": [2025],
}

for zone, years in DST_YEARS.items():
    tz = ZoneInfo(zone)
    for year in years:
        found = transitions(zone, year)
        assert found, (zone, year)
        for instant, before, after in found:
            gap = after > before
            shift = abs(after - before)
            kind = "dst-gap" if gap else "dst-overlap"
            # the wall times that do not exist (gap) or occur twice (overlap)
            first_wall = wall(instant, before) if gap else wall(instant, after)
            mid_wall = first_wall + shift / 2
            h, m = mid_wall.hour, mid_wall.minute
            h0, m0 = first_wall.hour, first_wall.minute
            day_before = (first_wall - timedelta(days=1)).date()

            exprs = [
                (f"0 {m} {h} * * ?", "wall-mid"),
                (f"0 {m0} {h0} * * ?", "wall-edge"),
                ("0 */15 * * * ?", "every-15m"),
                ("0 0 * * * ?", "hourly"),
                ("0 0/30 * * * ?", "every-30m"),
                (f"0 0 {(h0 - 1) % 24}-{(h0 + 2) % 24} * * ?", "hour-range"),
                ("*/20 * * * * ?", "every-20s"),
                ("0 0 0 * * ?", "midnight"),
                (f"0 {m} {h} {first_wall.day} {first_wall.month} ?", "that-day"),
            ]
            starts = [
                (iso(instant - timedelta(days=1, seconds=1), tz), "day-before"),
                (iso(instant - timedelta(seconds=3601), tz), "hour-before"),
                (iso(instant - timedelta(seconds=1), tz), "just-before"),
                (iso(instant, tz), "at"),
                (iso(instant + timedelta(seconds=1), tz), "just-after"),
                (iso(instant + timedelta(hours=2), timezone.utc), "after-utc"),
            ]
            if gap:
                # an instant written with the old offset at a wall time inside the gap
                starts.append((iso_offset(instant + shift / 2, before), "inside-gap"))
            else:
                starts.append((iso(instant - shift / 2, tz), "inside-first-pass"))
                starts.append((iso(instant + shift / 2, tz), "inside-second-pass"))
                starts.append((iso(instant + shift + timedelta(seconds=1), tz), "after-overlap"))
            for expr, expr_tag in exprs:
                if expr_tag in ("wall-mid", "every-15m"):
                    chosen = rng.sample(starts, 2)
                else:
                    chosen = rng.sample(starts, 1)
                for start, start_tag in chosen:
                    n = {"every-20s": 10, "that-day": 2}.get(expr_tag, rng.choice([3, 5, 5, 8]))
                    if expr_tag == "that-day" and start_tag == "day-before":
                        n = 3
                    add(expr, zone, start, n, "dst", kind, expr_tag, start_tag)

# monthly schedules whose day is the DST day; a wall time in the gap of a day that always has the
# gap never fires at all ("never": END, whatever the date the test runs)
for expr, zone, start, never in [
    ("0 30 2 ? 3 1#2", "America/New_York", "2024-01-01T00:00:00-05:00", True),
    ("0 30 1 ? 11 1#1", "America/New_York", "2024-01-01T00:00:00-05:00", False),
    ("0 0 2 ? 3 SUN#2", "America/New_York", "2031-01-01T00:00:00-05:00", True),
    ("0 0 3 ? 3 SUN#2", "America/New_York", "2031-01-01T00:00:00-05:00", False),
    ("0 30 2 ? 3 1L", "Europe/Berlin", "2024-01-01T00:00:00+01:00", True),
    ("0 30 2 ? 10 1L", "Europe/Berlin", "2024-01-01T00:00:00+01:00", False),
    ("0 30 1 ? 3 SUNL", "Europe/London", "2026-01-01T00:00:00+00:00", True),
    ("0 30 1 ? 10 1L", "Europe/London", "2026-01-01T00:00:00+00:00", False),
    ("0 30 2 ? 10 1#1", "Australia/Sydney", "2025-01-01T00:00:00+11:00", True),
    ("0 30 2 ? 4 1#1", "Australia/Sydney", "2025-01-01T00:00:00+11:00", False),
    ("0 15 2 ? 10 1#1", "Australia/Lord_Howe", "2024-01-01T00:00:00+11:00", True),
    ("0 45 1 ? 4 1#1", "Australia/Lord_Howe", "2024-01-01T00:00:00+11:00", False),
    ("0 0 0 ? 9 SUN", "America/Santiago", "2024-01-01T00:00:00-03:00", False),
    ("0 30 23 ? 4 SAT", "America/Santiago", "2024-01-01T00:00:00-03:00", False),
    ("0 0 0 L-5 3 ?", "Europe/Berlin", "2024-01-01T00:00:00+01:00", False),
    ("0 30 2 LW 3 ?", "Europe/Berlin", "2028-01-01T00:00:00+01:00", False),
    ("0 0 3 ? 9 1L", "Pacific/Chatham", "2027-01-01T00:00:00+13:45", True),
    ("0 0 4 ? 9 1L", "Pacific/Chatham", "2027-01-01T00:00:00+13:45", False),
]:
    add(expr, zone, start, 5, "dst", "dst-day", *(["never"] if never else []))

# the special day forms walked over many months, in zones with DST (times that fall into gaps
# on some days included); no L-nW here: Quartz can loop forever on it around DST changes
WALK_EXPRS = [
    "0 0 0 1W * ?", "0 30 2 1W * ?", "0 0 9 2W * ?", "0 0 0 15W * ?", "0 30 0 28W * ?", "0 0 0 29W * ?",
    "0 0 0 30W * ?", "0 0 1 31W * ?", "0 30 2 LW * ?", "0 0 0 LW * ?", "0 30 2 L * ?", "0 0 0 L-1 * ?",
    "0 30 0 L-6 * ?", "0 0 0 L-27 * ?", "0 30 2 ? * 1L", "0 0 0 ? * 6L", "0 30 0 ? * 7L", "0 30 2 ? * 1#1",
    "0 30 2 ? * 1#2", "0 0 0 ? * 1#5", "0 30 0 ? * 7#1", "0 0 0 ? * 6#5", "0 0/20 0-3 ? * 1#2", "0 0/20 0-3 ? * 1L",
]  # fmt: skip
for expr in WALK_EXPRS:
    zone = rng.choice(DST_ZONES)
    add(expr, zone, random_start(zone, 2000, 2080), 10, "walk", "dst")

for expr, zone, start, never in [
    ("0 30 0 ? 4 6L", "Africa/Cairo", "2024-01-01T00:00:00+02:00", True),  # last Friday of April, 00:00 -> 01:00
    ("0 0 1 ? 4 6L", "Africa/Cairo", "2024-01-01T00:00:00+02:00", False),
    ("0 30 0 ? 3 1#2", "America/Havana", "2025-01-01T00:00:00-05:00", True),  # second Sunday of March
    ("0 30 0 ? 11 1#1", "America/Havana", "2025-01-01T00:00:00-05:00", False),
    ("0 30 0 ? 10 5L", "Africa/Cairo", "2024-01-01T00:00:00+02:00", False),  # last Thursday of October, 24:00 -> 23:00
    ("0 30 23 ? 10 5L", "Africa/Cairo", "2024-01-01T00:00:00+02:00", False),
]:
    add(expr, zone, start, 5, "dst", "dst-day", *(["never"] if never else []))

# --------------------------------------------------------------------------------------------
# D. zones: fixed offsets, aliases, odd offsets

ZONE_EXPRS = ["0 0 0 * * ?", "0 30 9 ? * MON-FRI", "0 */20 * * * ?", "0 0 12 L * ?", "0 0 0 1 1 ?", "0 45 23 ? * 6#2"]
for zone in FIXED_ZONES + ALIAS_ZONES + PLAIN_ZONES:
    tag = "fixed" if zone in FIXED_ZONES else "alias" if zone in ALIAS_ZONES else "zone"
    for expr in rng.sample(ZONE_EXPRS, 2):
        add(expr, zone, random_start(zone), random_n(), "zone", tag)

# --------------------------------------------------------------------------------------------
# E. end of month / end of year boundaries

BOUNDARY_EXPRS = [
    "0 0 0 * * ?",
    "0 0 0 1 1 ?",
    "0 0 0 L * ?",
    "* * * * * ?",
    "59 59 23 L 12 ?",
    "0 0 0 1 * ?",
    "59 59 23 31 12 ?",
    "0 0 * * * ?",
    "0 0 0 ? * MON",
]
for _ in range(44):
    zone = rng.choice(COMMON_ZONES + DST_ZONES)
    year = rng.randint(2000, 2090)
    month = rng.choice([1, 2, 2, 3, 4, 6, 9, 11, 12, 12, 12])
    last = (datetime(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    second = rng.choice([59, 58, 0])
    moment = local(zone, year, month, last, 23, 59, second)
    start = iso(moment, zone_tz(zone))
    add(
        rng.choice(BOUNDARY_EXPRS),
        zone,
        start,
        rng.choice([2, 3, 5]),
        "boundary",
        "month-end" if month != 12 else "year-end",
    )
for year in [2000, 2024, 2049, 2050, 2089]:
    add("0 0 0 1 1 ?", "UTC", f"{year}-12-31T23:59:59+00:00", 3, "boundary", "year-end")
    add("0 0 0 1 1 ?", "Pacific/Kiritimati", f"{year}-12-31T23:59:59+14:00", 1, "boundary", "year-end")
    add("0 0 0 1 1 ?", "Pacific/Pago_Pago", f"{year}-12-31T00:00:00-11:00", 1, "boundary", "year-end")

# --------------------------------------------------------------------------------------------
# F. random expressions from the grammar

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def mixed_case(name: str) -> str:
    return rng.choice([name, name.lower(), name.capitalize(), "".join(rng.choice([c, c.lower()]) for c in name)])


def random_value(lo: int, hi: int, names: list[str] | None) -> str:
    v = rng.randint(lo, hi)
    if names and rng.random() < 0.5:
        return mixed_case(names[v - lo])
    return str(v)


def random_field(lo: int, hi: int, names: list[str] | None = None, *, dense: bool = False) -> str:
    r = rng.random()
    if r < (0.30 if dense else 0.15):
        return "*"
    if r < 0.45:
        return random_value(lo, hi, names)
    if r < 0.60:
        a, b = sorted(rng.sample(range(lo, hi + 1), 2))
        if rng.random() < 0.3:
            a, b = b, a  # wrap-around
        if names and rng.random() < 0.5:
            return f"{mixed_case(names[a - lo])}-{mixed_case(names[b - lo])}"
        return f"{a}-{b}"
    if r < 0.75:
        step = rng.randint(1, max(1, (hi - lo) // 2))
        start = (
            rng.choice(["*", str(rng.randint(lo, hi)), ""]) if lo == 0 else rng.choice(["*", str(rng.randint(lo, hi))])
        )
        return f"{start}/{step}"
    if r < 0.85:
        a, b = sorted(rng.sample(range(lo, hi + 1), 2))
        return f"{a}-{b}/{rng.randint(1, max(1, b - a))}"
    k = rng.randint(2, 4)
    values = sorted(rng.sample(range(lo, hi + 1), k))
    return ",".join(random_value(v, v, [names[v - lo]] if names else None) for v in values)


for _ in range(150):
    sec = random_field(0, 59) if rng.random() < 0.3 else rng.choice(["0", "0", "30"])
    minute = random_field(0, 59)
    hour = random_field(0, 23, dense=True)
    month = random_field(1, 12, MONTHS, dense=True) if rng.random() < 0.5 else "*"
    if rng.random() < 0.5:
        dom = random_field(1, 28, dense=True)
        dow = "?"
    else:
        dom = "?"
        dow = random_field(1, 7, DAYS, dense=True)
    expr = f"{sec} {minute} {hour} {dom} {month} {dow}"
    zone = rng.choice(COMMON_ZONES + DST_ZONES)
    add(expr, zone, random_start(zone), random_n(), "random")

# --------------------------------------------------------------------------------------------
# G. Quartz oddities it accepts (see docs/cron.md, "Quartz quirks we keep")

QUIRKS = [
    "0 0 0 ? * MONDAY",  # only the first three letters of a name count
    "0 0 0 1 JANUARY ?",
    "5X 0 0 * * ?",  # characters after a complete value are ignored
    "0 0 0 ? * SUN/3",
    "0 0 0 ? * MON-FRI/2",
    "0 0 0 * * ?x",
    "0 */0 * * * ?",  # step 0
    "0 0 2/0 * * ?",
    "0 0-59/100 * * * ?",  # a step after a range is not range-checked
    "0 0 0 1 1 ? 1969",  # year not range-checked: never fires
    "0 0 0 1 1 ? 0",
    "0 0 0 * * ? 2030 extra fields",  # anything after the 7th field is ignored
    "0 0 0 ? * 7-1",
    "0 0 0 1-5W * ?",  # W after a range
    "0 0 0 1,5W * ?",
    "0 0 0 15W/2 * ?",
    "0 0 0 ? * 2-3#2",  # '#' after a range
    "0 0 0 ? * 6L-2",
    "0 0 0 ? * LW",  # 'L' alone (Saturday) in day-of-week
    "0 0 0 ? * L-2",
    "0 0 0 ? * ,MON",
    "0 0 0 ? * MON,",
    "0,,5 0 0 * * ?",
    "0 0 0 ? * 8#1",  # an nth weekday that does not exist: never fires
    " 0 0 12  * * ? ",  # extra white space
]
for expr in QUIRKS:
    zone = rng.choice(["UTC", "Asia/Shanghai", "Europe/Berlin", "GMT+8"])
    year_lo, year_hi = (2028, 2032) if "2030" in expr else (2000, 2090)
    tags = ["quirk"] + (["end"] if expr.endswith(("1969", "? 0", "8#1")) else [])
    add(expr, zone, random_start(zone, year_lo, year_hi), rng.choice([3, 5]), *tags)

# --------------------------------------------------------------------------------------------
# H. invalid expressions: every one rejected by the real jar (see --check)

INVALID_EXPRS = [
    "",
    "0 0 12",  # too few fields (not 5: our engine reads 5 fields as Unix cron)
    "0 0 12 *",
    "0 0",
    "*",
    "0 0 12 * * *",  # neither day field is '?'
    "0 0 12 1 * MON",
    "0 0 12 ? * ?",  # both are
    "? 0 0 ? * MON",  # '?' elsewhere
    "0 0 0 1 ? *",
    "0 0 0 1 * ? ?",
    "60 0 12 * * ?",  # out of range
    "0 60 12 * * ?",
    "0 0 24 * * ?",
    "0 0 0 32 * ?",
    "0 0 0 0 * ?",
    "0 0 0 1 13 ?",
    "0 0 0 1 0 ?",
    "0 0 0 ? * 8",
    "0 0 0 ? * 0",
    "0 0 0 ? * 1-8",
    "0 0 0 1 1-13 ?",
    "0 0-60 * * * ?",
    "0 0 0 ? * 8L",
    "0 0 0 ? * 0L",
    "0 0 0 ? * FOO",  # bad names
    "0 0 0 1 FOO ?",
    "0 0 0 ? MON *",
    "0 0 0 JAN * ?",
    "0 0 0 ? * MON-FOO",
    "0 0 0 L-40 * ?",  # L and W misuse
    "0 0 0 L-31 * ?",
    "0 0 0 L,15 * ?",
    "0 0 0 15,L * ?",
    "0 0 0 LW-2 * ?",
    "0 0 0 WL * ?",
    "0 0 0 W * ?",
    "0 0 0 L W ?",
    "0 0 0 32W * ?",
    "0 0 0 ? * 2W",
    "0 0 0 ? * 5L,6",
    "0 0 0 ? * 6,5L",
    "0 0 0 ? * 2#6",  # '#' misuse
    "0 0 0 ? * 5#0",
    "0 0 0 ? * 2#",
    "0 0 0 ? * #3",
    "0 0 0 ? * 2#1,3#1",
    "0 0 0 ? * 2#3#4",
    "0 0 0 ? * 2#2-3",
    "0 0 0 ? 9 1#1,1#2",
    "0 */60 * * * ?",  # steps too large
    "0 0 */24 * * ?",
    "0 0 0 */32 * ?",
    "0 0 0 1 */13 ?",
    "0 0 0 ? * */8",
    "0 5/ * * * ?",
    "0 0 0 * * ? $",  # junk
    "0 0 0 * * @",
    "a 0 0 * * ?",
    "0 0 0 ? * MON-",
    "0 0 0 ? * -MON",
    "0 0 0 1 FEB- ?",
    "0 0 0 * * ? 2024-2020",  # decreasing year range
    "0 0 0 1 1 ? 2035-2033",
    "0 0 12 * * MON-FRI",
    "L 0 0 * * ?",  # parsed by Quartz but not evaluable (NoSuchElementException)
    "0 0 0 * L ?",
]
for expr in INVALID_EXPRS:
    zone = rng.choice(COMMON_ZONES)
    tags = ["unevaluable"] if expr in ("L 0 0 * * ?", "0 0 0 * L ?") else []
    add(expr, zone, random_start(zone), rng.choice([1, 5]), "invalid", *tags, kind="invalid-expr")

INVALID_ZONES = [
    "Mars/Base",
    "Asia/Shang_hai",
    "asia/shanghai",
    "UTC+8",
    "UTC+08:00",
    "+08:00",
    "gmt+8",
    "utc",
    "Z",
    "GMT+25",
    "GMT+24",
    "GMT+24:00",
    "GMT+8:60",
    "GMT+8:5",
    "GMT+12345",
    "GMT+",
    "Europe/Berlin ",
    "America/New York",
    "ROC",  # an IANA id that Java does not know
    "Factory",
    "",
]
# Quartz's search loops forever on these (the driver gives up after 5 s and answers INVALID); our
# engine must notice and refuse too, instead of hanging
add("0 0 0 0W * ?", "UTC", "2024-01-01T00:00:00+00:00", 1, "invalid", "loops", kind="invalid-expr")
add(
    "*/10 23-15 0 LW * ?",
    "Africa/Cairo",
    "2006-04-27T09:17:15+02:00",
    10,
    "invalid",
    "loops",
    "dst",
    kind="invalid-expr",
)

for zone in INVALID_ZONES:
    expr = rng.choice(["0 0 0 * * ?", "0 */5 * * * ?", "0 0 12 ? * MON-FRI"])
    add(expr, zone, random_start("UTC"), 5, "invalid", kind="invalid-zone")


# --------------------------------------------------------------------------------------------


def write() -> None:
    CORPUS.write_text("".join(case.line() + "\n" for case in CASES), encoding="utf-8")
    LABELS.write_text("".join(f"{case.kind}\t{','.join(case.tags)}\n" for case in CASES), encoding="utf-8")


def stats() -> str:
    kinds = collections.Counter(case.kind for case in CASES)
    tags = collections.Counter(tag for case in CASES for tag in case.tags)
    zones = collections.Counter(case.zone for case in CASES if case.kind == "valid")
    lines = [f"{len(CASES)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))]
    lines.append("tags: " + ", ".join(f"{k} {v}" for k, v in sorted(tags.items())))
    lines.append(f"{len(zones)} distinct valid zones; DST zones: " + ", ".join(f"{z} {zones[z]}" for z in DST_ZONES))
    return "\n".join(lines)


def find_jar() -> str:
    for jar in QUARTZ_JARS:
        if os.path.exists(jar):
            return jar
    sys.exit("Quartz jar not found: apt-get install libquartz2-java default-jdk-headless")


def run_quartz(lines: list[str]) -> list[str]:
    jar = find_jar()
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["javac", "-cp", jar, "-d", out, str(DRIVER)], check=True)
        result = subprocess.run(
            ["java", "-cp", f"{out}{os.pathsep}{jar}", "QuartzDriver"],
            input="".join(line + "\n" for line in lines),
            capture_output=True,
            text=True,
            check=True,
        )
    return result.stdout.splitlines()


def check() -> int:
    answers = run_quartz([case.line() for case in CASES])
    problems = []
    if len(answers) != len(CASES):
        problems.append(f"driver answered {len(answers)} lines for {len(CASES)} cases")
    for number, (case, answer) in enumerate(zip(CASES, answers, strict=False), 1):
        where = f"line {number}: {case.line()!r} -> {answer[:200]!r}"
        invalid = answer.startswith("INVALID:")
        if (case.kind == "valid") == invalid:
            problems.append(f"{where}: labelled {case.kind}")
        if "quartz driver:" in answer and not {"unevaluable", "loops"} & set(case.tags):
            problems.append(f"{where}: Quartz crashed or hung")
        if invalid:
            continue
        years = [int(t[:4]) for t in answer.split(",") if t != "END"]
        if any(y > LAST_SAFE_YEAR for y in years):
            problems.append(f"{where}: fire time after {LAST_SAFE_YEAR} (the answer would depend on today's date)")
        if answer.endswith("END") and not {"year", "end", "never"} & set(case.tags):
            problems.append(f"{where}: END without a year field (the answer may depend on today's date)")
    for problem in problems[:50]:
        print(problem)
    print(f"check: {len(problems)} problem(s) in {len(CASES)} cases")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="also verify the corpus with the real Quartz jar")
    args = parser.parse_args()
    write()
    print(f"wrote {CORPUS.name} and {LABELS.name}")
    print(stats())
    if args.check:
        if shutil.which("javac") is None:
            sys.exit("javac not found: apt-get install libquartz2-java default-jdk-headless")
        return check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
