"""Job status of a run (任务执行的状态) and how Airflow's run states map to it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class JobStatus(enum.StrEnum):
    NONE = "NONE"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCESSFUL = "SUCCESSFUL"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


_BY_RUN_STATE = {
    "queued": JobStatus.PENDING,
    "running": JobStatus.RUNNING,
    "success": JobStatus.SUCCESSFUL,
    "failed": JobStatus.FAILED,
}


def job_status(run_state: str | None, *, cancelled: bool = False) -> JobStatus:
    """A run's status; a run ended through cancel is CANCELLED (Airflow itself records it as failed)."""
    if run_state is None:
        return JobStatus.PENDING
    if cancelled and run_state in ("failed", "success"):
        return JobStatus.CANCELLED
    return _BY_RUN_STATE.get(str(run_state), JobStatus.PENDING)


# Airflow's run states of a run that ended (a cancelled run ends `failed`).
ENDED_RUN_STATES = ("success", "failed")


@dataclass(frozen=True, kw_only=True)
class Run:
    """A run of a plan (an execution context): one DAG run of the plan's DAG, as Airflow records it.

    `id` is the DAG run's integer id (the context id); `run_id` its Airflow run id, which names
    the cron items that fired it; `conf` holds a run-now's ONCE item.
    """

    id: int
    plan_id: int | None
    dag_id: str
    run_id: str
    state: str | None
    queued_at: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    run_after: datetime | None = None
    run_type: str | None = None
    conf: dict[str, Any] | None = None
    created_at: datetime | None = None
    triggering_user_name: str | None = None
    # Bumped by Airflow each time the run is cleared (re-run); a cancel holds for one attempt.
    clear_number: int = 0

    @property
    def ended(self) -> bool:
        return self.state in ENDED_RUN_STATES

    @property
    def asset_triggered(self) -> bool:
        return bool(self.run_type) and "asset" in str(self.run_type)


@dataclass(frozen=True, kw_only=True)
class CancelStart:
    """What a cancel request did to a run at once.

    A run whose job is running is asked to stop and ends when its processes are gone; what had
    not started yet never starts. When the request itself stopped something (`stopped`), the run
    is CANCELLED once it ends, whatever its running part then does; otherwise it is CANCELLED only
    if the job stops for the request (a job that finished first keeps its status).
    """

    ended_run: bool  # nothing of the run had started: the request ended it
    stopped_tasks: int  # its tasks that had not started and never will

    @property
    def stopped(self) -> bool:
        return self.ended_run or self.stopped_tasks > 0


def parse_statuses(text: str | None, *, field: str) -> tuple[str, ...]:
    from taskcenter.domain.errors import InvalidInputError

    if not text:
        return ()
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    for value in values:
        if value not in JobStatus.__members__:
            allowed = ", ".join(s.value for s in JobStatus)
            raise InvalidInputError(f"{field}: unknown job status {value!r} (one of {allowed})", field=field)
    return values


def cost_seconds(start: datetime | None, stop: datetime | None, *, now: datetime) -> int | None:
    """Seconds a run took (or has taken so far, while it runs)."""
    if start is None:
        return None
    return max(0, int(((stop or now) - start).total_seconds()))
