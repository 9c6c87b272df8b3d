"""`QuartzTimetable` against Airflow's timetable protocol, with a fixed clock."""

from __future__ import annotations

from datetime import timedelta

import pendulum
import pytest
from airflow.exceptions import AirflowTimetableInvalid
from airflow.serialization.decoders import decode_timetable
from airflow.serialization.encoders import encode_timetable
from airflow.timetables.base import DataInterval, TimeRestriction
from airflow.utils.types import DagRunType

from taskcenter.adapters import timetable as timetable_module
from taskcenter.adapters.timetable import QuartzTimetable, fired_item_ids
from taskcenter.domain.schedule import CronEntry

NOW = pendulum.datetime(2026, 11, 24, 10, 0, 5, tz="UTC")
NO_CATCHUP = TimeRestriction(earliest=None, latest=None, catchup=False)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timetable_module, "utcnow", lambda: NOW)


def _timetable(*entries: tuple[int, str, str]) -> QuartzTimetable:
    return QuartzTimetable([CronEntry(item_id=i, expression=e, zone=z) for i, e, z in entries])


def test_first_run_is_the_next_tick_after_now_never_a_past_one() -> None:
    daily = _timetable((1, "0 0 10 * * ?", "UTC"))  # the 10:00:00 tick passed 5 s ago
    info = daily.next_dagrun_info(last_automated_data_interval=None, restriction=NO_CATCHUP)
    assert info.run_after == pendulum.datetime(2026, 11, 25, 10, 0, 0, tz="UTC")
    assert info.data_interval == DataInterval(info.run_after, info.run_after)


def test_next_run_follows_the_last_one() -> None:
    every30 = _timetable((1, "*/30 * * * * ?", "GMT+08:00"))
    last = DataInterval.exact(pendulum.datetime(2026, 11, 24, 10, 0, 0, tz="UTC"))
    info = every30.next_dagrun_info(last_automated_data_interval=last, restriction=NO_CATCHUP)
    assert info.run_after == pendulum.datetime(2026, 11, 24, 10, 0, 30, tz="UTC")


def test_a_tick_late_by_less_than_the_misfire_threshold_still_runs() -> None:
    every30 = _timetable((1, "*/30 * * * * ?", "UTC"))
    last = DataInterval.exact(pendulum.datetime(2026, 11, 24, 9, 59, 30, tz="UTC"))
    info = every30.next_dagrun_info(last_automated_data_interval=last, restriction=NO_CATCHUP)
    assert info.run_after == pendulum.datetime(2026, 11, 24, 10, 0, 0, tz="UTC")  # 5 s late, kept


def test_ticks_missed_long_ago_are_skipped_without_catchup() -> None:
    hourly = _timetable((1, "0 0 * * * ?", "UTC"))
    last = DataInterval.exact(pendulum.datetime(2026, 11, 20, 0, 0, 0, tz="UTC"))
    info = hourly.next_dagrun_info(last_automated_data_interval=last, restriction=NO_CATCHUP)
    # Four days of ticks are skipped; 10:00:00 is only 5 s late (under the misfire threshold): it runs.
    assert info.run_after == pendulum.datetime(2026, 11, 24, 10, 0, 0, tz="UTC")
    caught_up = hourly.next_dagrun_info(
        last_automated_data_interval=last, restriction=TimeRestriction(earliest=None, latest=None, catchup=True)
    )
    assert caught_up.run_after == pendulum.datetime(2026, 11, 20, 1, 0, 0, tz="UTC")


def test_earliest_and_latest_bound_the_schedule() -> None:
    hourly = _timetable((1, "0 0 * * * ?", "UTC"))
    earliest = pendulum.datetime(2026, 12, 1, 0, 0, 0, tz="UTC")
    info = hourly.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(earliest=earliest, latest=None, catchup=False)
    )
    assert info.run_after == earliest
    assert (
        hourly.next_dagrun_info(
            last_automated_data_interval=None,
            restriction=TimeRestriction(earliest=None, latest=NOW + timedelta(minutes=30), catchup=False),
        )
        is None
    )


def test_an_ended_schedule_has_no_next_run() -> None:
    ended = _timetable((1, "0 0 0 1 1 ? 2020", "UTC"))
    assert ended.next_dagrun_info(last_automated_data_interval=None, restriction=NO_CATCHUP) is None


def test_scheduled_run_id_records_the_items_that_fired() -> None:
    timetable = _timetable((3, "0 0 8 * * ?", "GMT+08:00"), (4, "0 0 0 * * ?", "UTC"), (5, "0 0 12 * * ?", "UTC"))
    at = pendulum.datetime(2026, 11, 25, 0, 0, 0, tz="UTC")
    run_id = timetable.generate_run_id(
        run_type=DagRunType.SCHEDULED, run_after=at, data_interval=DataInterval.exact(at)
    )
    assert run_id == "scheduled__2026-11-25T00:00:00+00:00__items-3.4"
    assert fired_item_ids(run_id) == (3, 4)
    manual = timetable.generate_run_id(run_type=DagRunType.MANUAL, run_after=at, data_interval=None)
    assert fired_item_ids(manual) == ()


def test_serialization_round_trip_through_airflows_encoder() -> None:
    timetable = _timetable((1, "0 15 0 ? * 1", "GMT+08:00"), (2, "*/30 * * * * ?", "GMT+08:00"))
    restored = decode_timetable(encode_timetable(timetable))
    assert isinstance(restored, QuartzTimetable)
    assert restored == timetable
    assert restored.summary == "0 15 0 ? * 1 (GMT+08:00); */30 * * * * ? (GMT+08:00)"


@pytest.mark.parametrize("entries", [(), ((1, "0 0 25 * * ?", "UTC"),), ((1, "0 0 1 * * ?", "Nowhere/City"),)])
def test_validate_rejects_empty_or_bad_entries(entries) -> None:
    with pytest.raises(AirflowTimetableInvalid):
        _timetable(*entries).validate()
