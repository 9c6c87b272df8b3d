"""Runs of plan DAGs in Airflow (execution contexts): the one seam for reading, starting,
waiting for, cancelling and reading the output of a run.

Every call uses Airflow's ORM models or `airflow.api.common` helpers, which are internal (hence the
pinned Airflow minor version) and covered by integration tests on a running Airflow. Runs come out
as the domain's `Run`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.naming import dag_id_for, entity_of_asset_uri, plan_id_of
from taskcenter.domain.errors import ConflictError, ServiceUnavailableError
from taskcenter.domain.plans import EntityRef, PlanQuery
from taskcenter.domain.runs import CancelStart, Run

log = logging.getLogger(__name__)
# How often a run-now's trigger is tried when its transaction is aborted for another's sake.
TRIGGER_ATTEMPTS = 3
# How often a wait for a run's end reads the run again.
WAIT_INTERVAL = 0.5


def as_run(row: Any) -> Run:
    """A `DagRun` as the domain's run."""
    return Run(
        id=row.id,
        plan_id=plan_id_of(row.dag_id),
        dag_id=row.dag_id,
        run_id=row.run_id,
        state=str(row.state) if row.state is not None else None,
        queued_at=row.queued_at,
        start_date=row.start_date,
        end_date=row.end_date,
        run_after=row.run_after,
        run_type=str(row.run_type) if row.run_type is not None else None,
        conf=row.conf if isinstance(row.conf, dict) else None,
        created_at=row.created_at,
        triggering_user_name=row.triggering_user_name,
        clear_number=row.clear_number or 0,
    )


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> bool:
    """Poll `predicate()` (which opens its own session) until true or the timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class AirflowRuns:
    """The runs of plan DAGs, read and changed through the request's session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # -- reads ---------------------------------------------------------------------------------

    def get(self, run_pk: int) -> Run | None:
        from airflow.models.dagrun import DagRun

        row = self._session.get(DagRun, run_pk, populate_existing=True)
        return None if row is None else as_run(row)

    def plan_of_run(self, run_pk: int) -> int | None:
        """The plan whose DAG ran this run (None: no such run, or not a plan's), for authorization."""
        from airflow.models.dagrun import DagRun

        dag_id = self._session.scalar(select(DagRun.dag_id).where(DagRun.id == run_pk))
        return None if dag_id is None else plan_id_of(dag_id)

    def latest(self, plan_ids: Iterable[int]) -> dict[int, Run]:
        """The newest run of each plan that has one."""
        from airflow.models.dagrun import DagRun

        ids = [dag_id_for(i) for i in plan_ids]
        if not ids:
            return {}
        newest = select(func.max(DagRun.id)).where(DagRun.dag_id.in_(ids)).group_by(DagRun.dag_id)
        # populate_existing: a run this session loaded earlier (the one it triggered) is read
        # again, not answered from the session's identity map with its state of back then.
        rows = self._session.scalars(
            select(DagRun).where(DagRun.id.in_(newest)).execution_options(populate_existing=True)
        )
        return {run.plan_id: run for run in map(as_run, rows) if run.plan_id is not None}

    def page(self, *, query: PlanQuery) -> tuple[int, list[Run]]:
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
        return total, [as_run(run) for run in runs]

    @staticmethod
    def _matching(query: PlanQuery, *columns: Any) -> Any:
        """SELECT `columns` of the runs of the plans a list shows with one of the query's job statuses."""
        from airflow.models.dagrun import DagRun

        from taskcenter.adapters.store.cancels import job_status_condition
        from taskcenter.adapters.store.models import PlanRow
        from taskcenter.adapters.store.plans import listed_plans

        statement = (
            select(*columns)
            .select_from(DagRun)
            .join(PlanRow, PlanRow.dag_id == DagRun.dag_id)
            .where(*listed_plans(query))
        )
        if query.job_statuses:
            statement = statement.where(job_status_condition(DagRun, query.job_statuses))
        return statement

    def triggering_entities(self, run_pks: list[int]) -> dict[int, list[EntityRef]]:
        """For asset-triggered runs: the entities whose plan assets' events started each run."""
        from airflow.models.asset import AssetEvent, AssetModel, association_table

        if not run_pks:
            return {}
        rows = self._session.execute(
            select(association_table.c.dag_run_id, AssetModel.uri)
            .join(AssetEvent, AssetEvent.id == association_table.c.event_id)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(association_table.c.dag_run_id.in_(run_pks))
            .order_by(AssetEvent.timestamp)
        )
        found: dict[int, list[EntityRef]] = {}
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

    def unfinished(self, plan_id: int) -> list[Run]:
        from airflow.models.dagrun import DagRun

        dag_id = dag_id_for(plan_id)
        runs = self._session.scalars(
            select(DagRun)
            .where(DagRun.dag_id == dag_id, DagRun.state.in_(("queued", "running")))
            .order_by(DagRun.id)  # concurrent cancels claim the runs in one order: no deadlock
            .execution_options(populate_existing=True)
        )
        return [as_run(run) for run in runs]

    # -- changes -------------------------------------------------------------------------------

    def trigger(self, plan_id: int, *, item_id: int, user_name: str | None) -> Run:
        """Create a manual run of the plan now, started by its ONCE item `item_id` (in the run's conf).

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

        dag_id = dag_id_for(plan_id)
        conf = {"taskcenter": {"plan_id": plan_id, "plan_item_id": item_id}}
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
            return as_run(run)
        raise AssertionError("unreachable")

    def request_cancel(self, plan_id: int, run_id: str, *, by: str, at: datetime) -> CancelStart | None:
        """Ask a run's job to stop (see `run_cancel.request_cancel`)."""
        from taskcenter.adapters.airflow.run_cancel import request_cancel

        return request_cancel(self._session, dag_id_for(plan_id), run_id, by=by, at=at)

    # -- waits and outputs ---------------------------------------------------------------------

    @staticmethod
    def wait_for_end(run_pk: int, *, timeout: float) -> Run | None:
        """The run once it ended (None: gone, or still running at the timeout).

        It reads with short sessions of its own, to see what the scheduler commits; a caller
        holding a transaction ends it first.
        """
        from airflow.utils.session import create_session

        ended: list[Run] = []

        def finished() -> bool:
            with create_session() as session:
                run = AirflowRuns(session).get(run_pk)
            if run is not None and run.ended:
                ended.append(run)
                return True
            return run is None

        wait_until(finished, timeout=timeout, interval=WAIT_INTERVAL)
        return ended[0] if ended else None

    def log_parts(self, run: Run, *, default_sub_key: str) -> list[tuple[str, list[str]]]:
        from taskcenter.adapters.airflow.run_outputs import log_parts

        return log_parts(self._session, run, default_sub_key=default_sub_key)

    def result_parts(self, run: Run, *, default_sub_key: str) -> list[tuple[str, Any]]:
        from taskcenter.adapters.airflow.run_outputs import result_parts

        return result_parts(self._session, run, default_sub_key=default_sub_key)
