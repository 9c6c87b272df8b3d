from __future__ import annotations

from datetime import datetime, timezone

import pytest

from taskcenter.domain.cron import CronError
from taskcenter.domain.schedule import CronEntry, Fire, MultiZoneSchedule

UTC = timezone.utc


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_each_entry_fires_in_its_own_zone() -> None:
    schedule = MultiZoneSchedule(
        [
            CronEntry(item_id=1, expression="0 0 9 * * ?", zone="Asia/Shanghai"),
            CronEntry(item_id=2, expression="0 30 8 ? * MON-FRI", zone="America/New_York"),
        ]
    )
    # Tuesday 2026-11-24 00:00 UTC: Shanghai 09:00 is 01:00 UTC; New York 08:30 is 13:30 UTC.
    first = schedule.next_fire(after=_at("2026-11-24T00:00:00+00:00"))
    assert first == Fire(at=_at("2026-11-24T01:00:00+00:00"), item_ids=(1,))
    second = schedule.next_fire(after=first.at)
    assert second == Fire(at=_at("2026-11-24T13:30:00+00:00"), item_ids=(2,))


def test_entries_firing_at_the_same_instant_are_named_together() -> None:
    schedule = MultiZoneSchedule(
        [
            CronEntry(item_id=3, expression="0 0 8 * * ?", zone="GMT+08:00"),
            CronEntry(item_id=4, expression="0 0 0 * * ?", zone="UTC"),
            CronEntry(item_id=5, expression="*/30 * * * * ?", zone="UTC"),
        ]
    )
    fire = schedule.next_fire(after=_at("2026-11-24T23:59:59+00:00"))
    assert fire == Fire(at=_at("2026-11-25T00:00:00+00:00"), item_ids=(3, 4, 5))
    assert schedule.items_firing_at(_at("2026-11-25T00:00:00+00:00")) == (3, 4, 5)
    assert schedule.items_firing_at(_at("2026-11-25T00:00:30+00:00")) == (5,)
    assert schedule.items_firing_at(_at("2026-11-25T00:00:10+00:00")) == ()


def test_next_fire_is_strictly_after() -> None:
    schedule = MultiZoneSchedule([CronEntry(item_id=1, expression="*/30 * * * * ?", zone="UTC")])
    assert schedule.next_fire(after=_at("2026-11-24T10:00:00+00:00")).at == _at("2026-11-24T10:00:30+00:00")
    assert schedule.next_fire(after=_at("2026-11-24T10:00:05+00:00")).at == _at("2026-11-24T10:00:30+00:00")


def test_a_schedule_that_has_ended_returns_none() -> None:
    schedule = MultiZoneSchedule([CronEntry(item_id=1, expression="0 0 0 1 1 ? 2020", zone="UTC")])
    assert schedule.next_fire(after=_at("2026-01-01T00:00:00+00:00")) is None


def test_ended_entry_does_not_hide_a_live_one() -> None:
    schedule = MultiZoneSchedule(
        [
            CronEntry(item_id=1, expression="0 0 0 1 1 ? 2020", zone="UTC"),
            CronEntry(item_id=2, expression="0 0 12 * * ?", zone="UTC"),
        ]
    )
    assert schedule.next_fire(after=_at("2026-01-01T00:00:00+00:00")) == Fire(
        at=_at("2026-01-01T12:00:00+00:00"), item_ids=(2,)
    )


@pytest.mark.parametrize(
    ("expression", "zone"),
    [("0 0 25 * * ?", "UTC"), ("0 0 12 * * *", "UTC"), ("0 0 12 * * ?", "Mars/Olympus"), ("0 0 12 * * ?", "UTC+08:00")],
)
def test_bad_expression_or_zone_is_rejected(expression: str, zone: str) -> None:
    with pytest.raises(CronError):
        MultiZoneSchedule([CronEntry(item_id=1, expression=expression, zone=zone)])


def test_an_entry_whose_search_never_ends_does_not_stop_the_others(caplog) -> None:
    schedule = MultiZoneSchedule(
        [
            CronEntry(item_id=1, expression="0 0 12 0W * ?", zone="UTC"),  # Quartz loops forever on 0W
            CronEntry(item_id=2, expression="0 0 12 * * ?", zone="UTC"),
        ]
    )
    fire = schedule.next_fire(after=_at("2026-11-24T00:00:00+00:00"))
    assert fire == Fire(at=_at("2026-11-24T12:00:00+00:00"), item_ids=(2,))
    assert "plan item 1 has no computable next fire time" in caplog.text
