"""The Airflow gateway: the Airflow internals the services need, in one place.

Every call here uses Airflow's ORM models or `airflow.api.common` helpers, which are internal
(hence the pinned Airflow minor version) and covered by integration tests on a running Airflow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from taskcenter.domain.errors import ConflictError, ServiceUnavailableError
from taskcenter.domain.plans import PlanQuery
from taskcenter.domain.runs import CancelStart

log = logging.getLogger(__name__)
# Task instance states of work that has not started on a worker (or waits without a process).
_NOT_STARTED = ("scheduled", "queued", "up_for_retry", "up_for_reschedule", "deferred", "awaiting_input")
# How often a run-now's trigger is tried when its transaction is aborted for another's sake.
TRIGGER_ATTEMPTS = 3


@dataclass(frozen=True, kw_only=True)
class RunFacts:
    """A DAG run as the plan and context views need it."""

    id: int
    dag_id: str
    run_id: str
    state: str | None
    queued_at: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    run_after: datetime | None
    run_type: str | None
    conf: dict[str, Any] | None
    created_at: datetime | None = None
    triggering_user_name: str | None = None
    # Bumped by Airflow each time the run is cleared (re-run); a cancel holds for one attempt.
    clear_number: int = 0

    @property
    def plan_id(self) -> int | None:
        from taskcenter.adapters.airflow.naming import plan_id_of

        return plan_id_of(self.dag_id)


def _run_facts(run: Any) -> RunFacts:
    return RunFacts(
        id=run.id,
        dag_id=run.dag_id,
        run_id=run.run_id,
        state=run.state,
        queued_at=run.queued_at,
        start_date=run.start_date,
        end_date=run.end_date,
        run_after=run.run_after,
        run_type=str(run.run_type) if run.run_type is not None else None,
        conf=run.conf if isinstance(run.conf, dict) else None,
        created_at=run.created_at,
        triggering_user_name=run.triggering_user_name,
        clear_number=run.clear_number or 0,
    )


class AirflowGateway:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- DAGs ----------------------------------------------------------------------------------

    def set_paused(self, dag_id: str, *, paused: bool, next_run: datetime | None = None) -> bool:
        """Pause or unpause; on unpause the next run is reset to `next_run` (no run for ticks missed while paused)."""
        from airflow.models.dag import DagModel

        model = self._session.get(DagModel, dag_id)
        if model is None:
            return False
        model.is_paused = paused
        if not paused and model.next_dagrun is not None:
            # Airflow keeps the next run computed before the pause; a Quartz scheduler does not
            # fire ticks that passed while a trigger was paused.
            model.next_dagrun = next_run
            model.next_dagrun_create_after = next_run
            model.next_dagrun_data_interval = None if next_run is None else (next_run, next_run)
        return True

    def paused(self, dag_ids: Iterable[str]) -> dict[str, bool]:
        """`is_paused` of the DAGs Airflow knows (a pause in the Airflow UI disables the plan)."""
        from airflow.models.dag import DagModel

        ids = list(dag_ids)
        if not ids:
            return {}
        rows = self._session.execute(select(DagModel.dag_id, DagModel.is_paused).where(DagModel.dag_id.in_(ids)))
        return {dag_id: bool(is_paused) for dag_id, is_paused in rows}

    def last_parsed(self, dag_id: str) -> datetime | None:
        from airflow.models.dag import DagModel

        return self._session.scalar(select(DagModel.last_parsed_time).where(DagModel.dag_id == dag_id))

    def serialized_at(self, dag_id: str) -> datetime | None:
        from airflow.models.serialized_dag import SerializedDagModel

        return self._session.scalar(select(func.max(SerializedDagModel.last_updated)).where(SerializedDagModel.dag_id == dag_id))

    def is_parsed(self, dag_id: str) -> bool:
        from airflow.models.serialized_dag import SerializedDagModel

        return self._session.scalar(select(func.count()).select_from(SerializedDagModel).where(SerializedDagModel.dag_id == dag_id)) > 0

    def delete_dag(self, dag_id: str) -> None:
        """Delete the DAG and its runs; a task still running is stopped first.

        Airflow refuses to delete a DAG while a task instance runs, and a cancelled job may still
        be stopping. Its task instances are marked failed (Airflow's mark-failed): the task's next
        heartbeat is refused and its supervisor stops it (`on_kill` ends its programs too).
        """
        from airflow.api.common.delete_dag import delete_dag
        from airflow.exceptions import DagNotFound
        from airflow.models.taskinstance import TaskInstance
        from sqlalchemy import update

        tis = TaskInstance.__table__
        self._session.execute(
            update(tis).where(tis.c.dag_id == dag_id, tis.c.state == "running").values(state="failed", end_date=func.now())
        )
        try:
            delete_dag(dag_id, session=self._session)
        except DagNotFound:
            pass

    def clear_import_errors(self, *, bundle_name: str, relative_path: str) -> None:
        from airflow.models.errors import ParseImportError
        from sqlalchemy import delete

        self._session.execute(
            delete(ParseImportError).where(ParseImportError.bundle_name == bundle_name, ParseImportError.filename == relative_path)
        )

    # -- runs ----------------------------------------------------------------------------------

    def latest_runs(self, dag_ids: Iterable[str]) -> dict[str, RunFacts]:
        from airflow.models.dagrun import DagRun

        ids = list(dag_ids)
        if not ids:
            return {}
        newest = select(func.max(DagRun.id)).where(DagRun.dag_id.in_(ids)).group_by(DagRun.dag_id)
        # populate_existing: a run this session loaded earlier (the one it triggered) is read
        # again, not answered from the session's identity map with its state of back then.
        runs = self._session.scalars(select(DagRun).where(DagRun.id.in_(newest)).execution_options(populate_existing=True))
        return {run.dag_id: _run_facts(run) for run in runs}

    def run(self, run_pk: int) -> RunFacts | None:
        from airflow.models.dagrun import DagRun

        run = self._session.get(DagRun, run_pk, populate_existing=True)
        return None if run is None else _run_facts(run)

    def plan_of_run(self, run_pk: int) -> int | None:
        """The plan whose DAG ran this run (None: no such run, or not a plan's), for authorization."""
        from airflow.models.dagrun import DagRun

        from taskcenter.adapters.airflow.naming import plan_id_of

        dag_id = self._session.scalar(select(DagRun.dag_id).where(DagRun.id == run_pk))
        return None if dag_id is None else plan_id_of(dag_id)

    def trigger(self, dag_id: str, *, conf: dict[str, Any], user_name: str | None) -> RunFacts:
        """Create a manual run now.

        Run-now commits the plan before it triggers, so the request cannot simply be run again
        when the trigger's transaction is aborted for another one's sake (a deadlock, SQLite busy):
        the trigger, alone in its transaction, is tried again here instead (also after a collision,
        e.g. with a concurrent delete of the DAG), and if it still fails the caller gets a domain
        error and takes back what it stored.
        """
        from airflow.api.common.trigger_dag import trigger_dag
        from airflow.exceptions import DagNotFound, DagRunAlreadyExists
        from airflow.utils.types import DagRunTriggeredByType, DagRunType
        from sqlalchemy.exc import DBAPIError

        from taskcenter.adapters.store.transactions import DbFailure, classify

        for attempt in range(1, TRIGGER_ATTEMPTS + 1):
            try:
                run = trigger_dag(
                    dag_id,
                    triggered_by=DagRunTriggeredByType.REST_API,
                    run_type=DagRunType.MANUAL,
                    conf=conf,
                    triggering_user_name=user_name,
                    session=self._session,
                )
                self._session.flush()
            except DagRunAlreadyExists:
                raise ConflictError("a run of the plan started at the same instant already exists; retry") from None
            except DagNotFound:
                raise ServiceUnavailableError("the plan's DAG is not available in Airflow yet; retry") from None
            except DBAPIError as exc:
                self._session.rollback()
                log.warning("Triggering %s failed (attempt %d of %d)", dag_id, attempt, TRIGGER_ATTEMPTS, exc_info=True)
                if classify(exc) not in (DbFailure.RETRY, DbFailure.COLLISION) or attempt == TRIGGER_ATTEMPTS:
                    raise ServiceUnavailableError("Airflow could not start the run now; retry") from None
                time.sleep(0.05 * attempt)
                continue
            if run is None:
                raise ServiceUnavailableError(f"Airflow did not create a run for {dag_id}")
            return _run_facts(run)
        raise AssertionError("unreachable")


class RunQueries:
    """Lists and changes runs of plan DAGs (contexts)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def page(self, *, query: PlanQuery) -> tuple[int, list[RunFacts]]:
        """How many runs of the listed plans match, and the page of them, newest first.

        O(page): the runs join the plans on the plan's `dag_id` (indexed on both sides), the plan
        filters (`listed_plans`) and the job statuses are conditions of the same statements, and
        the total is a COUNT.
        """
        from airflow.models.dagrun import DagRun

        total = self._session.scalar(self._matching(query, func.count(DagRun.id))) or 0
        runs = self._session.scalars(
            self._matching(query, DagRun)
            .order_by(DagRun.id.desc())
            .offset(query.offset)
            .limit(query.limit)
            .execution_options(populate_existing=True)
        )
        return total, [_run_facts(run) for run in runs]

    @staticmethod
    def _matching(query: PlanQuery, *columns: Any) -> Any:
        """SELECT `columns` of the runs of the plans a list shows with one of the query's job statuses."""
        from airflow.models.dagrun import DagRun

        from taskcenter.adapters.store.cancels import job_status_condition
        from taskcenter.adapters.store.models import PlanRow
        from taskcenter.adapters.store.plans import listed_plans

        statement = (
            select(*columns).select_from(DagRun).join(PlanRow, PlanRow.dag_id == DagRun.dag_id).where(*listed_plans(query))
        )
        if query.job_statuses:
            statement = statement.where(job_status_condition(DagRun, query.job_statuses))
        return statement

    def triggering_entities(self, run_pks: list[int]) -> dict[int, list[Any]]:
        """For asset-triggered runs: the entities whose plan assets' events started each run."""
        from airflow.models.asset import AssetEvent, AssetModel, association_table

        from taskcenter.adapters.airflow.naming import entity_of_asset_uri

        if not run_pks:
            return {}
        rows = self._session.execute(
            select(association_table.c.dag_run_id, AssetModel.uri)
            .join(AssetEvent, AssetEvent.id == association_table.c.event_id)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(association_table.c.dag_run_id.in_(run_pks))
            .order_by(AssetEvent.timestamp)
        )
        found: dict[int, list[Any]] = {}
        for pk, uri in rows:
            ref = entity_of_asset_uri(uri)
            if ref is not None and ref not in found.setdefault(pk, []):
                found[pk].append(ref)
        return found

    def heartbeats(self, run_pks: list[int]) -> dict[int, datetime]:
        """The latest task heartbeat of each run (while its task runs)."""
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance

        if not run_pks:
            return {}
        rows = self._session.execute(
            select(DagRun.id, func.max(TaskInstance.last_heartbeat_at))
            .join(TaskInstance, and_(TaskInstance.dag_id == DagRun.dag_id, TaskInstance.run_id == DagRun.run_id))
            .where(DagRun.id.in_(run_pks))
            .group_by(DagRun.id)
        )
        return {pk: beat for pk, beat in rows if beat is not None}

    def unfinished(self, plan_id: int) -> list[RunFacts]:
        from airflow.models.dagrun import DagRun

        from taskcenter.adapters.airflow.naming import dag_id_for

        dag_id = dag_id_for(plan_id)
        runs = self._session.scalars(
            select(DagRun)
            .where(DagRun.dag_id == dag_id, DagRun.state.in_(("queued", "running")))
            .order_by(DagRun.id)  # concurrent cancels claim the runs in one order: no deadlock
            .execution_options(populate_existing=True)
        )
        return [_run_facts(run) for run in runs]

    def request_cancel(self, plan_id: int, run_id: str, *, by: str, at: datetime) -> CancelStart | None:
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
        from sqlalchemy import update

        from taskcenter.adapters.airflow.naming import CANCEL_REQUEST_KEY, dag_id_for

        dag_id = dag_id_for(plan_id)
        runs = DagRun.__table__
        claimed = self._session.execute(
            update(runs)
            .where(runs.c.dag_id == dag_id, runs.c.run_id == run_id, runs.c.state.in_(("queued", "running")))
            .values(state=runs.c.state)
        )
        if claimed.rowcount == 0:
            return None
        run = self._session.scalar(
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
        running = self._session.execute(select(tis.c.task_id, tis.c.map_index).where(of_run, tis.c.state == "running")).all()
        if not running:
            bag = DBDagBag()
            dag = bag.get_dag_for_run(run, session=self._session) or bag.get_latest_version_of_dag(dag_id, session=self._session)
            if dag is None:
                raise ServiceUnavailableError(f"the DAG {dag_id} is not available in Airflow")
            set_dag_run_state_to_failed(dag=dag, run_id=run_id, commit=True, session=self._session)
            return CancelStart(ended_run=True, stopped_tasks=0)
        not_started = self._session.execute(
            update(tis)
            .where(of_run, or_(tis.c.state.is_(None), tis.c.state.in_(_NOT_STARTED)))
            .values(state="skipped", end_date=at)
        ).rowcount
        request = {"by": by, "at": at_utc.isoformat()}
        for task_id, map_index in running:
            XComModel.set(  # stored as the task's own pushes are: a JSON object
                CANCEL_REQUEST_KEY, request, dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=map_index,
                serialize=False, session=self._session,
            )
        return CancelStart(ended_run=False, stopped_tasks=not_started)


def wait_until(predicate: Any, *, timeout: float, interval: float = 0.2) -> bool:
    """Poll `predicate()` (which opens its own session) until true or the timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_for_run_end(run_pk: int, *, timeout: float) -> RunFacts | None:
    """Wait (with short sessions of its own, to see what the scheduler commits) until a run ended."""
    from airflow.utils.session import create_session

    ended: list[RunFacts] = []

    def finished() -> bool:
        with create_session() as session:
            run = AirflowGateway(session).run(run_pk)
        if run is not None and run.state in ("success", "failed"):
            ended.append(run)
            return True
        return run is None

    wait_until(finished, timeout=timeout, interval=0.5)
    return ended[0] if ended else None
