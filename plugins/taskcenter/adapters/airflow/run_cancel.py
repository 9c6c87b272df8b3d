"""Cancel of a plan run: what has not started never starts, what runs is told to stop."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.naming import CANCEL_REQUEST_KEY
from taskcenter.domain.errors import ServiceUnavailableError
from taskcenter.domain.runs import CancelStart

# Task instance states of work that has not started on a worker (or waits without a process).
NOT_STARTED = ("scheduled", "queued", "up_for_retry", "up_for_reschedule", "deferred", "awaiting_input")


def request_cancel(session: Session, dag_id: str, run_id: str, *, by: str, at: datetime) -> CancelStart | None:
    """Ask a run's job to stop: what has not started never starts, what runs is told to stop.

    None when the run ended (or went) before this request could reach it. The run is claimed
    first with an UPDATE that matches only while it is queued or running: it waits for a
    concurrent cancel (or the scheduler's own change of the run) to commit and then sees the
    run as that left it, on PostgreSQL (a row lock) and SQLite (the write lock) alike, and the
    run row is locked before its task instances, in the scheduler's order (no deadlock).

    With nothing running the request ends the run itself (Airflow's mark-failed: what has not
    started is skipped). Otherwise what has not started is skipped now (a queued task that a
    worker picks up is refused by the execution API), and each running task instance gets the
    request as an XCom its operator watches (`CANCEL_REQUEST_KEY`): the job stops its
    processes, writes that it stopped and ends FAILED; the run ends when its last process is
    gone, and stays RUNNING until then.
    The run's note says who asked and when, for the Airflow UI.
    """
    from airflow.api.common.mark_tasks import set_dag_run_state_to_failed
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    runs = DagRun.__table__
    # An UPDATE's result is a CursorResult (Session.execute is typed as returning Result).
    claimed = cast(
        "CursorResult[*tuple[Any, ...]]",
        session.execute(
            update(runs)
            .where(runs.c.dag_id == dag_id, runs.c.run_id == run_id, runs.c.state.in_(("queued", "running")))
            .values(state=runs.c.state)
        ),
    )
    if claimed.rowcount == 0:
        return None
    run = session.scalar(
        select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id).execution_options(populate_existing=True)
    )
    if run is None:
        return None
    at_utc = at.astimezone(timezone.utc)
    note = f"taskcenter: cancel requested by {by} at {at_utc:%Y-%m-%d %H:%M:%S} UTC"
    if run.dag_run_note is None:
        run.note = (note, None)
    else:  # a note of the UI's, or of an earlier cancel: the cancel's replaces it
        run.dag_run_note.content, run.dag_run_note.user_id = note, None
    tis = TaskInstance.__table__
    of_run = and_(tis.c.dag_id == dag_id, tis.c.run_id == run_id)
    running = session.execute(select(tis.c.task_id, tis.c.map_index).where(of_run, tis.c.state == "running")).all()
    if not running:
        bag = DBDagBag()
        dag = bag.get_dag_for_run(run, session=session) or bag.get_latest_version_of_dag(dag_id, session=session)
        if dag is None:
            raise ServiceUnavailableError(f"the DAG {dag_id} is not available in Airflow")
        set_dag_run_state_to_failed(dag=dag, run_id=run_id, commit=True, session=session)
        return CancelStart(ended_run=True, stopped_tasks=0)
    not_started = cast(
        "CursorResult[*tuple[Any, ...]]",
        session.execute(
            update(tis)
            .where(of_run, or_(tis.c.state.is_(None), tis.c.state.in_(NOT_STARTED)))
            .values(state="skipped", end_date=at)
        ),
    ).rowcount
    request = {"by": by, "at": at_utc.isoformat()}
    for task_id, map_index in running:
        XComModel.set(  # stored as the task's own pushes are: a JSON object
            CANCEL_REQUEST_KEY, request, dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=map_index,
            serialize=False, session=session,
        )
    return CancelStart(ended_run=False, stopped_tasks=not_started)
