"""Which DAG runs ended through cancel (the API's CANCELLED status).

A cancel is recorded when it is asked for; the run is CANCELLED once it has ended and either the
request itself ended it (nothing of it had started: `outcome` "stopped") or its job stopped for
the cancel (the job's marker, an XCom of the run). A job that finished before the cancel reached
it keeps its own status. A record names the run by its integer id and its Airflow run id
(SQLite may hand a deleted run's integer id to a new run) and keeps the run's `clear_number`: a
run that is cleared (re-run, e.g. in the Airflow UI) after the cancel is that run's new attempt,
and no longer CANCELLED.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, literal, not_, or_, select
from sqlalchemy.orm import Session

from taskcenter.adapters.store.models import RunCancelRow
from taskcenter.adapters.store.transactions import dialect_insert
from taskcenter.domain.runs import Run

# `outcome` of a cancel whose request itself ended something of the run (what had not started).
STOPPED = "stopped"


def is_cancelled_clause(run_pk: Any, run_id: Any, clear_number: Any) -> Any:
    """SQL: the run these columns name ended through cancel, if it has ended (for filters over DAG runs)."""
    return exists(
        select(RunCancelRow.dag_run_id).where(
            and_(
                RunCancelRow.dag_run_id == run_pk,
                RunCancelRow.run_id == run_id,
                RunCancelRow.clear_number == clear_number,
                # Constants written into the SQL: a status filter stays as many parameters as before.
                or_(RunCancelRow.outcome == literal(STOPPED, literal_execute=True), _job_stopped(run_pk)),
            )
        )
    )


def _job_stopped(run_pk: Any) -> Any:
    """SQL: a task of the run left the marker that its job stopped for a cancel."""
    from airflow.models.xcom import XComModel

    from taskcenter.adapters.airflow.naming import CANCEL_STOPPED_KEY

    return exists(
        select(XComModel.dag_run_id).where(
            XComModel.dag_run_id == run_pk, XComModel.key == literal(CANCEL_STOPPED_KEY, literal_execute=True)
        )
    )


_ENDED = ("success", "failed")


def job_status_condition(run: Any, statuses: Iterable[str]) -> Any:
    """SQL: the run has one of these API job statuses, so that job-status filters run in the database.

    `run` is Airflow's `DagRun` or an alias of it, outer-joined where a plan may have no run (its
    `id` NULL: status NONE). The mapping is `taskcenter.domain.runs.job_status` in SQL: queued
    PENDING, running RUNNING, success SUCCESSFUL and failed FAILED, except that an ended run with a
    cancel record of its attempt is CANCELLED. (Airflow's `DagRunState` has these four states only;
    plain equalities let the database use its partial indexes of queued and running runs.)
    """
    cancelled = is_cancelled_clause(run.id, run.run_id, run.clear_number)
    by_status = {
        "NONE": run.id.is_(None),
        "PENDING": run.state == "queued",
        "RUNNING": run.state == "running",
        "SUCCESSFUL": and_(run.state == "success", not_(cancelled)),
        "FAILED": and_(run.state == "failed", not_(cancelled)),
        "CANCELLED": and_(run.state.in_(_ENDED), cancelled),
    }
    return or_(*(by_status[status] for status in dict.fromkeys(statuses)))


class CancelRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(
        self, runs: Iterable[Run], *, plan_id: int, user_id: int | None, now: datetime, stopped: Iterable[int] = ()
    ) -> None:
        """Record a cancel of these runs; idempotent, also for two cancels of one run at the same moment.

        `stopped`: the ids of the runs the request itself ended (nothing of them had started).

        One upsert per run: a record of the same run and attempt stays as the first cancel wrote
        it (a concurrent insert waits for it and then changes nothing), one of an older run with
        the same integer id, or of an earlier attempt, is replaced.
        """
        table = RunCancelRow.__table__
        insert = dialect_insert(self._session.get_bind().dialect.name)
        ended = set(stopped)
        for run in runs:
            statement = insert(table).values(
                dag_run_id=run.id,
                run_id=run.run_id,
                clear_number=run.clear_number,
                plan_id=plan_id,
                cancelled_at=now,
                cancelled_by=user_id,
                outcome=STOPPED if run.id in ended else None,
            )
            new = statement.excluded
            self._session.execute(
                statement.on_conflict_do_update(
                    index_elements=[table.c.dag_run_id],
                    set_={
                        name: new[name]
                        for name in ("run_id", "clear_number", "plan_id", "cancelled_at", "cancelled_by", "outcome")
                    },
                    where=or_(table.c.run_id != new.run_id, table.c.clear_number != new.clear_number),
                )
            )

    def cancelled(self, runs: Iterable[Run]) -> set[int]:
        """The integer ids of these runs that ended through cancel (and were not re-run since).

        A run still going may be among them when its cancel is under way; the status of a run
        that has not ended is its own (`taskcenter.domain.runs.job_status`).
        """
        wanted = {run.id: (run.run_id, run.clear_number) for run in runs}
        if not wanted:
            return set()
        rows = self._session.execute(
            select(RunCancelRow.dag_run_id, RunCancelRow.run_id, RunCancelRow.clear_number, RunCancelRow.outcome).where(
                RunCancelRow.dag_run_id.in_(list(wanted))
            )
        )
        recorded = {
            pk: outcome for pk, run_id, clear_number, outcome in rows if wanted.get(pk) == (run_id, clear_number)
        }
        asked = [pk for pk, outcome in recorded.items() if outcome != STOPPED]
        if not asked:
            return set(recorded)
        from airflow.models.xcom import XComModel

        from taskcenter.adapters.airflow.naming import CANCEL_STOPPED_KEY

        stopped_by_job = set(
            self._session.scalars(
                select(XComModel.dag_run_id).where(XComModel.dag_run_id.in_(asked), XComModel.key == CANCEL_STOPPED_KEY)
            )
        )
        return {pk for pk, outcome in recorded.items() if outcome == STOPPED or pk in stopped_by_job}

    def requested(self, run_pk: int) -> RunCancelRow | None:
        """The cancel asked for this run, if any (whatever its outcome)."""
        return self._session.get(RunCancelRow, run_pk)

    def forget_plan(self, plan_id: int) -> None:
        """Drop the records of a deleted plan (its runs are gone with its DAG)."""
        self._session.execute(delete(RunCancelRow).where(RunCancelRow.plan_id == plan_id))
