"""Which DAG runs ended through cancel (the API's CANCELLED status).

A record names the run by its integer id and its Airflow run id (SQLite may hand a deleted run's
integer id to a new run) and keeps the run's `clear_number`: a run that is cleared (re-run, e.g. in
the Airflow UI) after the cancel is that run's new attempt, and no longer CANCELLED.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import Session

from taskcenter.adapters.store.models import RunCancelRow


class RunKey(Protocol):
    id: int
    run_id: str
    clear_number: int


def is_cancelled_clause(run_pk: Any, run_id: Any, clear_number: Any) -> Any:
    """SQL: the run these columns name ended through cancel (for filters over DAG runs)."""
    return exists(
        select(RunCancelRow.dag_run_id).where(
            and_(
                RunCancelRow.dag_run_id == run_pk,
                RunCancelRow.run_id == run_id,
                RunCancelRow.clear_number == clear_number,
            )
        )
    )


class CancelRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, runs: Iterable[RunKey], *, plan_id: int, user_id: int | None, now: datetime) -> None:
        """Record runs as cancelled (replacing an older record of the same integer id)."""
        for run in runs:
            existing = self._session.get(RunCancelRow, run.id)
            if existing is not None:
                self._session.delete(existing)
                self._session.flush()
            self._session.add(
                RunCancelRow(
                    dag_run_id=run.id,
                    run_id=run.run_id,
                    clear_number=run.clear_number,
                    plan_id=plan_id,
                    cancelled_at=now,
                    cancelled_by=user_id,
                )
            )
        self._session.flush()

    def cancelled(self, runs: Iterable[RunKey]) -> set[int]:
        """The integer ids of these runs that ended through cancel (and were not re-run since)."""
        wanted = {run.id: (run.run_id, run.clear_number) for run in runs}
        if not wanted:
            return set()
        rows = self._session.execute(
            select(RunCancelRow.dag_run_id, RunCancelRow.run_id, RunCancelRow.clear_number).where(
                RunCancelRow.dag_run_id.in_(list(wanted))
            )
        )
        return {pk for pk, run_id, clear_number in rows if wanted.get(pk) == (run_id, clear_number)}

    def forget_plan(self, plan_id: int) -> None:
        """Drop the records of a deleted plan (its runs are gone with its DAG)."""
        self._session.execute(delete(RunCancelRow).where(RunCancelRow.plan_id == plan_id))
