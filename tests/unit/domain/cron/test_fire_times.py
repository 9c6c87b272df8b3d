"""Fire times the real Quartz 2.3.2 jar computes (each expected value was produced by the jar).

The differential test covers hundreds more; these name the behaviours worth knowing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from taskcenter.domain.cron import CronError, QuartzCron, parse_zone


def fire_times(expression: str, zone: str, start: str, n: int) -> list[str]:
    times = QuartzCron.parse(expression).next_fire_times(datetime.fromisoformat(start), parse_zone(zone), n)
    return [t.isoformat() for t in times]


@pytest.mark.parametrize(
    ("expression", "zone", "start", "expected"),
    [
        pytest.param(
            "0 30 2 * * ?",
            "America/New_York",
            "2025-03-08T00:00:00-05:00",
            ["2025-03-08T02:30:00-05:00", "2025-03-10T02:30:00-04:00", "2025-03-11T02:30:00-04:00"],
            id="spring-forward: a wall time in the gap is skipped that day",
        ),
        pytest.param(
            "0 0 * * * ?",
            "America/New_York",
            "2025-03-09T00:30:00-05:00",
            ["2025-03-09T01:00:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T04:00:00-04:00"],
            id="spring-forward: hourly jumps over the missing hour",
        ),
        pytest.param(
            "0 */15 * * * ?",
            "America/New_York",
            "2025-11-02T00:59:00-04:00",
            ["2025-11-02T01:00:00-05:00", "2025-11-02T01:15:00-05:00", "2025-11-02T01:30:00-05:00"],
            id="fall-back: the first pass of the repeated hour is skipped",
        ),
        pytest.param(
            "0 30 1 * * ?",
            "America/New_York",
            "2025-11-01T12:00:00-04:00",
            ["2025-11-02T01:30:00-05:00", "2025-11-03T01:30:00-05:00", "2025-11-04T01:30:00-05:00"],
            id="fall-back: an ambiguous wall time fires once, at the standard-time instant",
        ),
        pytest.param(
            "0 0 * * * ?",
            "Europe/London",
            "2025-10-26T01:30:00+01:00",
            ["2025-10-26T02:00:00+00:00", "2025-10-26T03:00:00+00:00"],
            id="fall-back: even a valid instant (01:00 GMT) is skipped",
        ),
        pytest.param(
            "0 0 2 * * ?",
            "Australia/Lord_Howe",
            "2025-10-04T00:00:00+10:30",
            ["2025-10-04T02:00:00+10:30", "2025-10-06T02:00:00+11:00", "2025-10-07T02:00:00+11:00"],
            id="half-hour DST gap",
        ),
        pytest.param(
            "0 0 12 LW * ?",
            "UTC",
            "2025-05-01T00:00:00+00:00",
            ["2025-05-30T12:00:00+00:00", "2025-06-30T12:00:00+00:00", "2025-07-31T12:00:00+00:00"],
            id="LW: last weekday of the month",
        ),
        pytest.param(
            "0 0 12 L-2 * ?",
            "UTC",
            "2024-02-01T00:00:00+00:00",
            ["2024-02-27T12:00:00+00:00", "2024-03-29T12:00:00+00:00"],
            id="L-n in a leap February",
        ),
        pytest.param(
            "0 0 9 1W * ?",
            "UTC",
            "2025-02-01T00:00:00+00:00",
            ["2025-02-03T09:00:00+00:00", "2025-03-03T09:00:00+00:00"],
            id="1W never leaves the month",
        ),
        pytest.param(
            "0 0 9 31W * ?",
            "UTC",
            "2025-02-01T00:00:00+00:00",
            ["2025-03-31T09:00:00+00:00", "2025-05-30T09:00:00+00:00"],
            id="31W: no fire in February or April (Quartz quirk)",
        ),
        pytest.param(
            "0 0 12 ? * 6L",
            "Asia/Shanghai",
            "2025-01-01T00:00:00+08:00",
            ["2025-01-31T12:00:00+08:00", "2025-02-28T12:00:00+08:00"],
            id="6L: last Friday",
        ),
        pytest.param(
            "0 0 12 ? * 2#5",
            "Asia/Shanghai",
            "2025-01-01T00:00:00+08:00",
            ["2025-03-31T12:00:00+08:00", "2025-06-30T12:00:00+08:00"],
            id="2#5: fifth Monday, only in months that have one",
        ),
        pytest.param(
            "0 0 0 29 2 ?",
            "UTC",
            "2025-01-01T00:00:00+00:00",
            ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"],
            id="leap day",
        ),
        pytest.param(
            "*/7 * * * * ?",
            "GMT-03:30",
            "2025-01-01T23:59:50-03:30",
            [
                "2025-01-01T23:59:56-03:30",
                "2025-01-02T00:00:00-03:30",
                "2025-01-02T00:00:07-03:30",
                "2025-01-02T00:00:14-03:30",
            ],
            id="sub-minute steps restart every minute",
        ),
        pytest.param(
            "0 0 * * 1/2",
            "UTC",
            "2025-01-05T12:00:00+00:00",  # 5-field: Mon, Wed, Fri, Sun (Quartz 2-1/2)
            [
                "2025-01-06T00:00:00+00:00",
                "2025-01-08T00:00:00+00:00",
                "2025-01-10T00:00:00+00:00",
                "2025-01-12T00:00:00+00:00",
            ],
            id="5-field n/step is n-7/step, as in cronie",
        ),
        pytest.param(
            "0 0 10 * * ?",
            "Asia/Shanghai",
            "2026-11-25T10:00:05+08:00",
            ["2026-11-26T10:00:00+08:00"],
            id="a tick five seconds ago is not due: the next is tomorrow",
        ),
    ],
)
def test_fire_times_agree_with_quartz(expression: str, zone: str, start: str, expected: list[str]) -> None:
    assert fire_times(expression, zone, start, len(expected)) == expected


def test_a_schedule_ends_with_its_year_field() -> None:
    assert fire_times("0 0 0 1 1 ? 2027", "UTC", "2025-01-01T00:00:00+00:00", 3) == ["2027-01-01T00:00:00+00:00"]
    assert fire_times("0 0 0 1 1 ? 2020", "UTC", "2025-01-01T00:00:00+00:00", 1) == []


def test_the_search_stops_at_the_year_ceiling() -> None:
    cron = QuartzCron.parse("0 0 0 1 1 ? 2200", max_year=2126)
    assert cron.next_fire_time(datetime(2025, 1, 1, tzinfo=timezone.utc), parse_zone("UTC")) is None
    every_year = QuartzCron.parse("0 0 0 1 1 ?", max_year=2126)
    assert every_year.next_fire_time(datetime(2126, 6, 1, tzinfo=timezone.utc), parse_zone("UTC")) is None


def test_strictly_after_and_milliseconds_dropped() -> None:
    cron = QuartzCron.parse("*/30 * * * * ?")
    utc = parse_zone("UTC")
    at = datetime(2025, 1, 1, 10, 0, 0, tzinfo=timezone.utc)
    assert cron.next_fire_time(at, utc) == at + timedelta(seconds=30)
    assert cron.next_fire_time(at + timedelta(milliseconds=999), utc) == at + timedelta(seconds=30)
    assert cron.next_fire_time(at - timedelta(milliseconds=1), utc) == at


def test_results_are_aware_and_in_the_zone() -> None:
    zone = parse_zone("Asia/Shanghai")
    fire = QuartzCron.parse("0 0 9 * * ?").next_fire_time(datetime(2025, 1, 1, tzinfo=timezone.utc), zone)
    assert fire is not None and fire.tzinfo is zone and fire.hour == 9


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        QuartzCron.parse("0 0 9 * * ?").next_fire_time(datetime(2025, 1, 1), parse_zone("UTC"))


def test_a_search_quartz_would_never_finish_is_reported() -> None:
    # The real Quartz loops forever here (0W never converges); we stop and say so.
    with pytest.raises(CronError, match="loops forever"):
        QuartzCron.parse("0 0 12 0W * ?").next_fire_time(datetime(2025, 1, 1, tzinfo=timezone.utc), parse_zone("UTC"))


def test_a_start_at_the_end_of_datetimes_range_ends_the_schedule() -> None:
    # 9999-12-31 23:59:59 at -01:00 is in year 10000 in UTC, past what datetime can hold; Quartz
    # answers "no more fire times" there, and so do we (instead of an OverflowError)
    late = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=1)))
    assert QuartzCron.parse("0 0 12 * * ?").next_fire_times(late, parse_zone("UTC"), 2) == []
