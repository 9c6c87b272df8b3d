"""`QuartzTimetable` on a real scheduler: sub-minute Quartz cron and no run for a past tick."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from tests.integration.harness import RunningTaskCenter

DAG_TEMPLATE = """
from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from taskcenter.adapters.timetable import QuartzTimetable
from taskcenter.domain.schedule import CronEntry

with DAG(
    dag_id="{dag_id}",
    schedule=QuartzTimetable([CronEntry(item_id={item_id}, expression="{expression}", zone="{zone}")]),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    is_paused_upon_creation=False,
):
    EmptyOperator(task_id="noop")
"""


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_every_30_seconds_runs_on_the_real_scheduler(taskcenter: RunningTaskCenter) -> None:
    dag_id = "tt_every_30s"
    taskcenter.add_dag_file(
        f"{dag_id}.py", DAG_TEMPLATE.format(dag_id=dag_id, item_id=7, expression="*/30 * * * * ?", zone="GMT+08:00")
    )
    taskcenter.wait_for_dag(dag_id)
    deadline = time.monotonic() + 110
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = [r for r in taskcenter.dag_runs(dag_id) if r["run_type"] == "scheduled"]
        if sum(r["state"] == "success" for r in runs) >= 2:
            break
        time.sleep(2)
    done = [r for r in runs if r["state"] == "success"]
    assert len(done) >= 2, runs
    ticks = [_parse(r["run_after"]) for r in done]
    assert all(t.second in (0, 30) and t.microsecond == 0 for t in ticks), ticks
    assert all(b - a == timedelta(seconds=30) for a, b in zip(ticks, ticks[1:], strict=False)), ticks
    assert all(r["dag_run_id"].endswith("__items-7") for r in done), [r["dag_run_id"] for r in done]


def test_daily_tick_just_past_at_creation_waits_for_the_next_day(taskcenter: RunningTaskCenter) -> None:
    """The 10:00:05-created `0 0 10 * * ?` case, shifted to now: the daily tick was 5 s ago."""
    tick = (datetime.now(timezone.utc) - timedelta(seconds=5)).replace(microsecond=0)
    expression = f"{tick.second} {tick.minute} {tick.hour} * * ?"
    dag_id = "tt_daily_just_past"
    taskcenter.add_dag_file(
        f"{dag_id}.py", DAG_TEMPLATE.format(dag_id=dag_id, item_id=8, expression=expression, zone="UTC")
    )
    dag = taskcenter.wait_for_dag(dag_id)
    next_run = _parse(dag["next_dagrun_run_after"])
    assert next_run == tick + timedelta(days=1), (expression, dag["next_dagrun_run_after"])
    time.sleep(8)  # several scheduler loops: nothing may run for the past tick
    assert taskcenter.dag_runs(dag_id) == []
