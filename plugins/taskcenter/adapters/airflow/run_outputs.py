"""A plan run's logs (through Airflow's own TaskLogReader, so remote logging keeps working) and
its result (the job task's XCom)."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from taskcenter.adapters.airflow.dag_builder import DATASETS_TASK, JOB_TASK
from taskcenter.adapters.jobs.base import RESULT_KEY_PREFIX
from taskcenter.domain.runs import Run

# The tasks whose logs are the run's logs (not the bookkeeping `refreshed` and `finished`).
LOGGED_TASKS = [DATASETS_TASK, JOB_TASK]
# Airflow's audit-log event for a try the scheduler failed because its heartbeats stopped.
HEARTBEAT_TIMEOUT_EVENT = "heartbeat timeout"


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


def _sub_key_of(message: Any) -> str | None:
    extra = getattr(message, "model_extra", None) or {}
    value = extra.get("sub_key")
    return None if value in (None, "") else str(value)


def _prefix(stamp: Any) -> str:
    """`YYYY-MM-DD HH:MM:SS.mmm ` in the display zone (the zone of every other datetime of the API)."""
    from taskcenter.adapters.config import display_zone

    if stamp is None:
        return ""
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(display_zone())
    return stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " "


def _lines(message: Any) -> list[str]:
    """A log record as text lines: `YYYY-MM-DD HH:MM:SS.mmm [LEVEL] message` in the display zone."""
    event = getattr(message, "event", None)
    if event is None or str(event).startswith("::"):
        return []
    extra = getattr(message, "model_extra", None) or {}
    prefix = _prefix(getattr(message, "timestamp", None))
    level = extra.get("level")
    first = f"{prefix}[{str(level).upper()}] {event}" if level else f"{prefix}{event}"
    return [first, *_error_lines(extra.get("error_detail"))]


def _task_sub_key(ti: Any, *, default: str) -> str:
    """A mapped task's subKey is its label (the dataset key), else its index; an unmapped one's is `default`."""
    if ti.map_index < 0:
        return default
    return str(ti.rendered_map_index or ti.map_index)


class _Parts:
    """Log lines grouped by subKey, keeping the order in which subKeys first appear.

    When a task ran more than once, every subKey it wrote to in a try starts that try's lines with
    `*** try N ***`, so each sub-step's log says which try it comes from.
    """

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {}
        self._try: int | None = None
        self._marked: set[str] = set()

    def start_try(self, number: int | None) -> None:
        """The lines added next belong to try `number` (None: a task that ran once)."""
        self._try = number
        self._marked = set()

    def add(self, sub_key: str, lines: list[str]) -> None:
        if not lines:
            return
        target = self.lines.setdefault(sub_key, [])
        if self._try is not None and sub_key not in self._marked:
            self._marked.add(sub_key)
            target.append(f"*** try {self._try} ***")
        target.extend(lines)


def _tries(session: Session, ti: Any) -> list[Any]:
    """Every try of one task instance, oldest first (earlier tries live in the history table)."""
    from airflow.models.taskinstancehistory import TaskInstanceHistory

    history = session.scalars(
        select(TaskInstanceHistory)
        .where(
            TaskInstanceHistory.dag_id == ti.dag_id,
            TaskInstanceHistory.run_id == ti.run_id,
            TaskInstanceHistory.task_id == ti.task_id,
            TaskInstanceHistory.map_index == ti.map_index,
            TaskInstanceHistory.try_number < ti.try_number,
        )
        .options(joinedload(TaskInstanceHistory.dag_run))
        .order_by(TaskInstanceHistory.try_number)
    ).all()
    return [*history, ti]


def log_parts(session: Session, run: Run, *, default_sub_key: str) -> list[tuple[str, list[str]]]:
    """The run's log lines per subKey, every try of every job task in order.

    A line a runner wrote through `JobRun.step_log` carries its subKey; the other lines (Airflow's
    own, the traceback of a failure) belong to the task's subKey: the dataset key of a mapped
    task, else the plan's entity key.
    """
    from airflow.models.dagbag import DBDagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.log.log_reader import TaskLogReader

    instances = session.scalars(
        select(TaskInstance)
        .where(
            TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id, TaskInstance.task_id.in_(LOGGED_TASKS)
        )
        .options(joinedload(TaskInstance.dag_run))
    ).all()
    instances = sorted(instances, key=lambda ti: (LOGGED_TASKS.index(ti.task_id), ti.map_index))
    reader = TaskLogReader()
    dag = None
    parts = _Parts()
    for current in instances:
        if not current.try_number:
            continue
        if dag is None:
            dag = DBDagBag().get_dag_for_run(current.dag_run, session=session)
        own_key = _task_sub_key(current, default=default_sub_key)
        for ti in _tries(session, current):
            if dag is not None:
                with contextlib.suppress(Exception):
                    ti.task = dag.get_task(ti.task_id)
            parts.start_try(ti.try_number if current.try_number > 1 else None)
            # What Airflow's own log endpoint passes for a full download (remote log handlers read
            # it); its LogMetadata TypedDict lacks that key and requires `end_of_log`, an output.
            metadata = {"download_logs": True}
            stream, _ = reader.read_log_chunks(ti, ti.try_number, metadata)  # type: ignore[arg-type]
            in_source_details = False
            for message in stream:
                event = str(getattr(message, "event", ""))
                if event.startswith("::group::"):  # where the log was read from: not the job's output
                    in_source_details = True
                elif event.startswith("::endgroup::"):
                    in_source_details = False
                elif not in_source_details:
                    parts.add(_sub_key_of(message) or own_key, _lines(message))
            parts.add(own_key, _worker_lost(session, ti))
    return list(parts.lines.items())


def _worker_lost(session: Session, ti: Any) -> list[str]:
    """Why a try whose worker died ended: the scheduler's note (its task log just stops).

    A worker that dies writes nothing more, so the log alone would not say why the try
    failed; the scheduler, which fails it once its heartbeats stop, records that in
    Airflow's audit log (event `heartbeat timeout`) for that try.
    """
    from airflow.models.log import Log

    rows = session.execute(
        select(Log.dttm, Log.extra)
        .where(
            Log.dag_id == ti.dag_id,
            Log.task_id == ti.task_id,
            Log.run_id == ti.run_id,
            Log.map_index == ti.map_index,
            Log.try_number == ti.try_number,
            Log.event == HEARTBEAT_TIMEOUT_EVENT,
        )
        .order_by(Log.dttm)
    ).all()
    return [
        f"{_prefix(stamp)}[ERROR] the task's worker stopped (killed, or its machine went down): {extra}"
        for stamp, extra in rows
    ]


def result_parts(session: Session, run: Run, *, default_sub_key: str) -> list[tuple[str, Any]]:
    """Results per subKey in the order they were published; a runner's return value (a job
    class registered by a deployment) counts as the result of the plan's entity."""
    from airflow.models.xcom import XComModel

    rows = session.scalars(
        select(XComModel)
        .where(
            XComModel.dag_id == run.dag_id,
            XComModel.run_id == run.run_id,
            XComModel.task_id == JOB_TASK,
            XComModel.key.startswith(RESULT_KEY_PREFIX, autoescape=True),
        )
        .order_by(XComModel.timestamp, XComModel.map_index)
    ).all()
    parts = [(row.key[len(RESULT_KEY_PREFIX) :], XComModel.deserialize_value(row)) for row in rows]
    returned = session.scalars(
        XComModel.get_many(
            run_id=run.run_id, dag_ids=run.dag_id, task_ids=JOB_TASK, key="return_value", map_indexes=-1, limit=1
        )
    ).first()
    if returned is not None:
        value = XComModel.deserialize_value(returned)
        if value is not None:
            parts.append((default_sub_key, value))
    return parts
