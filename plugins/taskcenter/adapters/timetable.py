"""`QuartzTimetable`: a plan's cron items as an Airflow timetable, with Quartz semantics.

Airflow's cron timetables share one zone, have no seconds field in Quartz's position, and with
`catchup=False` run the latest *past* tick when a DAG is created or unpaused. This one wraps the
pure `MultiZoneSchedule`:

* one run at each instant where any entry fires, the run id naming the plan item(s) that fired;
* a new schedule starts strictly after "now": no run for a past tick on create;
* a tick at most `MISFIRE_THRESHOLD` late (scheduler busy, DAG re-parsed around the tick) still
  runs, once; older missed ticks are skipped, like Quartz's misfire threshold with "do nothing".
  Enabling a plan through the API resets the next run to the first tick after "now".
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow._shared.timezones.timezone import coerce_datetime, utcnow
from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

from taskcenter.domain.cron import CronError
from taskcenter.domain.schedule import CronEntry, MultiZoneSchedule, fired_item_ids, items_suffix

__all__ = ["QuartzTimetable", "fired_item_ids"]

if TYPE_CHECKING:
    from airflow.timetables.base import TimeRestriction
    from airflow.utils.types import DagRunType
    from pendulum import DateTime

MISFIRE_THRESHOLD = timedelta(seconds=60)
class QuartzTimetable(Timetable):
    periodic = True
    can_be_scheduled = True
    run_ordering = ("logical_date", "data_interval_end")

    def __init__(self, entries: list[CronEntry] | tuple[CronEntry, ...]) -> None:
        self.entries = tuple(entries)

    @cached_property
    def _schedule(self) -> MultiZoneSchedule:
        return MultiZoneSchedule(self.entries)

    @property
    def summary(self) -> str:
        return "; ".join(f"{e.expression} ({e.zone})" for e in self.entries)

    @property
    def description(self) -> str:  # type: ignore[override]
        return "Quartz cron: " + self.summary

    def validate(self) -> None:
        if not self.entries:
            raise AirflowTimetableInvalid("a QuartzTimetable needs at least one cron entry")
        try:
            _ = self._schedule  # building it parses every expression
        except CronError as exc:
            raise AirflowTimetableInvalid(str(exc)) from exc

    def serialize(self) -> dict[str, Any]:
        return {"entries": [{"item_id": e.item_id, "expression": e.expression, "zone": e.zone} for e in self.entries]}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> QuartzTimetable:
        return cls(
            [CronEntry(item_id=e["item_id"], expression=e["expression"], zone=e["zone"]) for e in data["entries"]]
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuartzTimetable) and self.entries == other.entries

    def __hash__(self) -> int:
        return hash(self.entries)

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        return DataInterval.exact(run_after)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        floor = self._floor(last_automated_data_interval, restriction)
        fire = self._schedule.next_fire(after=floor)
        if fire is None:
            return None
        at = coerce_datetime(fire.at)
        if restriction.latest is not None and at > restriction.latest:
            return None
        return DagRunInfo.exact(at)

    def _floor(self, last: DataInterval | None, restriction: TimeRestriction) -> DateTime:
        """The instant the next run must come strictly after."""
        now = coerce_datetime(utcnow())
        if last is None:
            floor = now
        elif restriction.catchup:
            floor = last.end
        else:
            floor = max(last.end, now - MISFIRE_THRESHOLD)
        if restriction.earliest is not None and restriction.earliest - timedelta(seconds=1) > floor:
            floor = restriction.earliest - timedelta(seconds=1)
        return floor

    def generate_run_id(
        self,
        *,
        run_type: DagRunType,
        run_after: DateTime,
        data_interval: DataInterval | None,
        **extra: Any,
    ) -> str:
        from airflow.utils.types import DagRunType

        run_id = super().generate_run_id(run_type=run_type, run_after=run_after, data_interval=data_interval, **extra)
        if run_type is not DagRunType.SCHEDULED:
            return run_id
        return run_id + items_suffix(self._schedule.items_firing_at(run_after))
