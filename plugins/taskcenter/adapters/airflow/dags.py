"""Plan DAGs' rows in Airflow's metadata DB: pause state, parse state, deletion.

Airflow's ORM models and `airflow.api.common` helpers are internal (hence the pinned Airflow
minor version); integration tests cover them on a running Airflow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session


class AirflowDags:
    def __init__(self, session: Session) -> None:
        self._session = session

    def set_paused(self, dag_id: str, *, paused: bool, next_run: datetime | None = None) -> bool:
        """Pause or unpause (False: Airflow does not know the DAG yet); one UPDATE, no read.

        On unpause a scheduled next run is reset to `next_run`: Airflow keeps the next run computed
        before the pause, and a Quartz scheduler does not fire ticks that passed while a trigger
        was paused.
        """
        from airflow.models.dag import DagModel

        dag = DagModel.__table__
        values: dict[str, Any] = {"is_paused": paused}
        if not paused:
            scheduled = dag.c.next_dagrun.is_not(None)
            for column in (
                "next_dagrun",
                "next_dagrun_create_after",
                "next_dagrun_data_interval_start",
                "next_dagrun_data_interval_end",
            ):
                values[column] = case((scheduled, literal(next_run, type_=dag.c[column].type)), else_=dag.c[column])
        # An UPDATE's result is a CursorResult (Session.execute is typed as returning Result).
        changed = cast(
            "CursorResult[*tuple[Any, ...]]",
            self._session.execute(update(dag).where(dag.c.dag_id == dag_id).values(**values)),
        )
        return bool(changed.rowcount)

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

        return self._session.scalar(
            select(func.max(SerializedDagModel.last_updated)).where(SerializedDagModel.dag_id == dag_id)
        )

    def is_parsed(self, dag_id: str) -> bool:
        from airflow.models.serialized_dag import SerializedDagModel

        count = self._session.scalar(
            select(func.count()).select_from(SerializedDagModel).where(SerializedDagModel.dag_id == dag_id)
        )
        return (count or 0) > 0  # COUNT(*) always has a row: never None

    def delete_dag(self, dag_id: str) -> None:
        """Delete the DAG and its runs; a task still running is stopped first.

        Airflow refuses to delete a DAG while a task instance runs, and a cancelled job may still
        be stopping. Its task instances are marked failed (Airflow's mark-failed): the task's next
        heartbeat is refused and its supervisor stops it (`on_kill` ends its programs too).
        """
        from airflow.api.common.delete_dag import delete_dag
        from airflow.exceptions import DagNotFound
        from airflow.models.taskinstance import TaskInstance

        tis = TaskInstance.__table__
        self._session.execute(
            update(tis)
            .where(tis.c.dag_id == dag_id, tis.c.state == "running")
            .values(state="failed", end_date=func.now())
        )
        try:
            delete_dag(dag_id, session=self._session)
        except DagNotFound:
            pass

    def clear_import_errors(self, *, bundle_name: str, relative_path: str) -> None:
        from airflow.models.errors import ParseImportError
        from sqlalchemy import delete

        self._session.execute(
            delete(ParseImportError).where(
                ParseImportError.bundle_name == bundle_name, ParseImportError.filename == relative_path
            )
        )
