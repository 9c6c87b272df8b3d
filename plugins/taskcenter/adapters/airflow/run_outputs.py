"""A plan run's logs (through Airflow's own TaskLogReader, so remote logging keeps working) and
its result (the job task's XCom)."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

JOB_TASK = "job"


def _error_lines(details: Any) -> list[str]:
    """A structured exception (`error_detail`) as a Python-style traceback, cause last."""
    lines: list[str] = []
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        lines.append("Traceback (most recent call last):")
        for frame in detail.get("frames") or []:
            if isinstance(frame, dict):
                lines.append(f'  File "{frame.get("filename")}", line {frame.get("lineno")}, in {frame.get("name")}')
        lines.append(f"{detail.get('exc_type', 'Exception')}: {detail.get('exc_value', '')}")
    return lines


def _lines(message: Any) -> list[str]:
    event = getattr(message, "event", None)
    if event is None or str(event).startswith("::"):
        return []
    extra = getattr(message, "model_extra", None) or {}
    stamp = getattr(message, "timestamp", None)
    prefix = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " " if stamp else ""
    level = extra.get("level")
    first = f"{prefix}[{str(level).upper()}] {event}" if level else f"{prefix}{event}"
    return [first, *_error_lines(extra.get("error_detail"))]


class RunOutputs:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _task_instance(self, run: Any, try_number: int) -> Any:
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.taskinstancehistory import TaskInstanceHistory

        ti = self._session.scalar(
            select(TaskInstance)
            .where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id, TaskInstance.task_id == JOB_TASK, TaskInstance.try_number == try_number)
            .options(joinedload(TaskInstance.dag_run))
        )
        if ti is None:
            ti = self._session.scalar(
                select(TaskInstanceHistory)
                .where(
                    TaskInstanceHistory.dag_id == run.dag_id,
                    TaskInstanceHistory.run_id == run.run_id,
                    TaskInstanceHistory.task_id == JOB_TASK,
                    TaskInstanceHistory.try_number == try_number,
                )
                .options(joinedload(TaskInstanceHistory.dag_run))
            )
        return ti

    def log_lines(self, run: Any) -> list[str]:
        """Every try of the job task, in order, as text lines."""
        from airflow.models.dagbag import DBDagBag
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.log.log_reader import TaskLogReader

        current = self._session.scalar(
            select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id, TaskInstance.task_id == JOB_TASK)
        )
        if current is None or not current.try_number:
            return []
        reader = TaskLogReader()
        dag = None
        lines: list[str] = []
        for try_number in range(1, current.try_number + 1):
            ti = self._task_instance(run, try_number)
            if ti is None:
                continue
            if dag is None:
                dag = DBDagBag().get_dag_for_run(ti.dag_run, session=self._session)
            if dag is not None:
                with contextlib.suppress(Exception):
                    ti.task = dag.get_task(ti.task_id)
            stream, _ = reader.read_log_chunks(ti, try_number, {"download_logs": True})
            if try_number > 1 or current.try_number > 1:
                lines.append(f"*** try {try_number} ***")
            in_source_details = False
            for message in stream:
                event = str(getattr(message, "event", ""))
                if event.startswith("::group::"):  # where the log was read from: not the job's output
                    in_source_details = True
                elif event.startswith("::endgroup::"):
                    in_source_details = False
                elif not in_source_details:
                    lines.extend(_lines(message))
        return lines

    def result(self, run: Any) -> Any:
        from airflow.models.xcom import XComModel

        row = self._session.scalars(
            XComModel.get_many(run_id=run.run_id, dag_ids=run.dag_id, task_ids=JOB_TASK, key="return_value", limit=1)
        ).first()
        return None if row is None else XComModel.deserialize_value(row)
