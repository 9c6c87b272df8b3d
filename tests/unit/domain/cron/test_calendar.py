from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from taskcenter.domain.cron.calendar import (
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    HOUR_OF_DAY,
    MINUTE,
    MONTH,
    LenientCalendar,
    ZoneRules,
    civil_from_days,
    days_from_civil,
    last_day_of_month,
)


def test_civil_day_arithmetic_matches_the_gregorian_calendar() -> None:
    epoch = date(1970, 1, 1)
    for days in range(-1000, 60000, 7):
        day = epoch + timedelta(days=days)
        assert civil_from_days(days) == (day.year, day.month, day.day)
        assert days_from_civil(day.year, day.month, day.day) == days


@pytest.mark.parametrize(
    ("month", "year", "last"), [(2, 2024, 29), (2, 2100, 28), (2, 2000, 29), (4, 2025, 30), (12, 2025, 31)]
)
def test_last_day_of_month(month: int, year: int, last: int) -> None:
    assert last_day_of_month(month, year) == last


def _wall(text: str) -> int:
    return int((datetime.fromisoformat(text) - datetime(1970, 1, 1)).total_seconds())


def test_java_resolves_gap_and_overlap_wall_times_to_standard_time() -> None:
    rules = ZoneRules(ZoneInfo("America/New_York"))
    # 02:30 does not exist on 2025-03-09: Java reads it with the standard offset -> 03:30 EDT.
    assert (
        rules.wall_to_epoch(_wall("2025-03-09T02:30:00"))
        == datetime(2025, 3, 9, 7, 30, tzinfo=timezone.utc).timestamp()
    )
    # 01:30 happens twice on 2025-11-02: Java takes the later, standard-time instant.
    assert (
        rules.wall_to_epoch(_wall("2025-11-02T01:30:00"))
        == datetime(2025, 11, 2, 6, 30, tzinfo=timezone.utc).timestamp()
    )


def test_cached_offsets_equal_exact_offsets_around_transitions() -> None:
    zone = ZoneInfo("Australia/Lord_Howe")
    rules = ZoneRules(zone)
    start = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
    for epoch in range(start, start + 366 * 86400, 1799):
        assert rules.offset_at(epoch) == int(datetime.fromtimestamp(epoch, zone).utcoffset().total_seconds())


def test_lenient_fields_roll_over_like_java() -> None:
    cal = LenientCalendar(ZoneRules(timezone.utc), int(datetime(2025, 1, 31, tzinfo=timezone.utc).timestamp()))
    cal.set(DAY_OF_MONTH, 31)
    cal.set(MONTH, 3)  # April 31st -> May 1st
    assert (cal.get(MONTH), cal.get(DAY_OF_MONTH)) == (4, 1)
    cal.set(MINUTE, 60)  # 00:60 -> 01:00
    assert (cal.get(HOUR_OF_DAY), cal.get(MINUTE)) == (1, 0)
    assert cal.get(DAY_OF_WEEK) == 5  # 2025-05-01 is a Thursday (Java: Sunday = 1)
