"""The Airflow gateway: the Airflow internals the services need, in one place.

Every call here uses Airflow's ORM models or `airflow.api.common` helpers, which are internal
(hence the pinned Airflow minor version) and covered by integration tests on a running Airflow.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskcenter.domain.errors import ConflictError, ServiceUnavailableError


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


@dataclass(frozen=True, kw_only=True)
class DagFacts:
    dag_id: str
    is_paused: bool
    next_run_after: datetime | None


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
    )


class AirflowGateway:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- DAGs ----------------------------------------------------------------------------------

    def dags(self, dag_ids: Iterable[str]) -> dict[str, DagFacts]:
        from airflow.models.dag import DagModel

        ids = list(dag_ids)
        if not ids:
            return {}
        rows = self._session.execute(
            select(DagModel.dag_id, DagModel.is_paused, DagModel.next_dagrun_create_after).where(DagModel.dag_id.in_(ids))
        )
        return {r.dag_id: DagFacts(dag_id=r.dag_id, is_paused=bool(r.is_paused), next_run_after=r.next_dagrun_create_after) for r in rows}

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

    def is_parsed(self, dag_id: str) -> bool:
        from airflow.models.serialized_dag import SerializedDagModel

        return self._session.scalar(select(func.count()).select_from(SerializedDagModel).where(SerializedDagModel.dag_id == dag_id)) > 0

    def delete_dag(self, dag_id: str) -> None:
        from airflow.api.common.delete_dag import delete_dag
        from airflow.exceptions import DagNotFound

        try:
            delete_dag(dag_id, session=self._session)
        except DagNotFound:
            pass

    # -- runs ----------------------------------------------------------------------------------

    def latest_runs(self, dag_ids: Iterable[str]) -> dict[str, RunFacts]:
        from airflow.models.dagrun import DagRun

        ids = list(dag_ids)
        if not ids:
            return {}
        newest = select(func.max(DagRun.id)).where(DagRun.dag_id.in_(ids)).group_by(DagRun.dag_id)
        runs = self._session.scalars(select(DagRun).where(DagRun.id.in_(newest)))
        return {run.dag_id: _run_facts(run) for run in runs}

    def run(self, run_pk: int) -> RunFacts | None:
        from airflow.models.dagrun import DagRun

        run = self._session.get(DagRun, run_pk)
        return None if run is None else _run_facts(run)

    def trigger(self, dag_id: str, *, conf: dict[str, Any], user_name: str | None) -> RunFacts:
        from airflow.api.common.trigger_dag import trigger_dag
        from airflow.exceptions import DagNotFound, DagRunAlreadyExists
        from airflow.utils.types import DagRunTriggeredByType, DagRunType

        try:
            run = trigger_dag(
                dag_id,
                triggered_by=DagRunTriggeredByType.REST_API,
                run_type=DagRunType.MANUAL,
                conf=conf,
                triggering_user_name=user_name,
                session=self._session,
            )
        except DagRunAlreadyExists as exc:
            raise ConflictError(f"a run started at the same instant already exists: {exc}") from None
        except DagNotFound as exc:
            raise ServiceUnavailableError(f"the plan's DAG is not available in Airflow yet: {exc}") from None
        if run is None:
            raise ServiceUnavailableError(f"Airflow did not create a run for {dag_id}")
        self._session.flush()
        return _run_facts(run)


def wait_until(predicate: Any, *, timeout: float, interval: float = 0.2) -> bool:
    """Poll `predicate()` (which opens its own session) until true or the timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
