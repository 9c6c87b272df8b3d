"""CancelRepository on SQLite and PostgreSQL: recording a cancel is idempotent, also concurrently."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import select

from taskcenter.adapters.store.cancels import CancelRepository
from taskcenter.adapters.store.models import RunCancelRow
from tests.component.databases import add_run, session_for, side_by_side

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)

pytest_plugins = ("tests.component.database_fixtures",)  # `engine`: SQLite and PostgreSQL


@dataclass(frozen=True)
class Run:
    id: int
    run_id: str
    clear_number: int = 0


def records(engine: sa.Engine) -> list[tuple[int, str, int, int | None]]:
    with session_for(engine) as db:
        rows = db.execute(
            select(RunCancelRow.dag_run_id, RunCancelRow.run_id, RunCancelRow.clear_number, RunCancelRow.cancelled_by)
        )
        return sorted(tuple(r) for r in rows)  # type: ignore[misc]


def test_two_cancels_of_one_run_at_once_both_succeed_with_one_record(engine: sa.Engine) -> None:
    """Both insert the record before either commits: the second waits for the first, then keeps its record."""
    run = Run(id=7, run_id="manual__1")
    recorded = threading.Barrier(2, timeout=30)

    def cancel(user: int) -> None:
        with session_for(engine) as db:
            if user == 2:
                recorded.wait()  # the first holds its (uncommitted) record
            CancelRepository(db).record([run], plan_id=1, user_id=user, now=NOW)
            if user == 1:
                recorded.wait()
                time.sleep(0.3)  # the second's insert meets this uncommitted one
            db.commit()

    _, errors = side_by_side(lambda i: cancel(i + 1))
    assert errors == []
    assert records(engine) == [(7, "manual__1", 0, 1)]  # the first cancel's record


def test_a_record_of_another_run_or_attempt_with_the_same_id_is_replaced(airflow_engine: sa.Engine) -> None:
    """SQLite may give a deleted run's integer id to a new run; a cleared run is a new attempt."""
    engine = airflow_engine
    for run, user in (
        (Run(7, "manual__1"), 1),
        (Run(7, "manual__1"), 2),
        (Run(7, "manual__2"), 3),
        (Run(7, "manual__2", 1), 4),
    ):
        with session_for(engine) as db:
            CancelRepository(db).record([run], plan_id=1, user_id=user, now=NOW, stopped=[7])
            db.commit()
        if user == 2:
            assert records(engine) == [(7, "manual__1", 0, 1)]  # the same run again: kept as it was
    assert records(engine) == [(7, "manual__2", 1, 4)]
    with session_for(engine) as db:
        assert CancelRepository(db).cancelled([Run(7, "manual__2", 1)]) == {7}
        assert CancelRepository(db).cancelled([Run(7, "manual__2", 2), Run(8, "manual__3")]) == set()


def test_a_run_asked_to_stop_is_cancelled_only_once_its_job_says_it_stopped(airflow_engine: sa.Engine) -> None:
    """A running job was asked to stop: its run counts as cancelled only with the job's marker;
    a job that finished before the request reached it keeps its own status."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    from taskcenter.adapters.airflow.naming import CANCEL_STOPPED_KEY

    with session_for(airflow_engine) as db:
        asked = Run(add_run(db, "taskcenter_plan_1", run_id="manual__1", state="failed"), "manual__1")
        finished_first = Run(add_run(db, "taskcenter_plan_1", run_id="manual__2", state="success"), "manual__2")
        CancelRepository(db).record([asked, finished_first], plan_id=1, user_id=1, now=NOW)
        db.commit()
        assert CancelRepository(db).cancelled([asked, finished_first]) == set()
        db.execute(
            TaskInstance.__table__.insert().values(
                id=uuid.uuid4(),
                dag_id="taskcenter_plan_1",
                task_id="job",
                run_id="manual__1",
                map_index=-1,
                try_number=1,
                pool="default_pool",
                pool_slots=1,
                priority_weight=1,
                max_tries=0,
                hostname="",
                queue="default",
                operator="TaskCenterJobOperator",
                custom_operator_name="",
                state="failed",
            )
        )
        db.execute(
            XComModel.__table__.insert().values(
                dag_run_id=asked.id,
                task_id="job",
                map_index=-1,
                key=CANCEL_STOPPED_KEY,
                dag_id="taskcenter_plan_1",
                run_id="manual__1",
                value={"by": "admin"},
                timestamp=NOW,
            )
        )
        db.commit()
        assert CancelRepository(db).cancelled([asked, finished_first]) == {asked.id}
        assert db.scalar(select(RunCancelRow.outcome).where(RunCancelRow.dag_run_id == finished_first.id)) is None
