"""Which DAG runs ended through cancel (the API's CANCELLED status)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from taskcenter.adapters.store.models import RunCancelRow


class CancelRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, runs: Iterable[tuple[int, str]], *, plan_id: int, user_id: int | None, now: datetime) -> None:
        """Record runs (integer id, Airflow run id) as cancelled."""
        for pk, run_id in runs:
            existing = self._session.get(RunCancelRow, pk)
            if existing is not None and existing.run_id != run_id:  # a reused id of a deleted run
                self._session.delete(existing)
                self._session.flush()
                existing = None
            if existing is None:
                self._session.add(RunCancelRow(dag_run_id=pk, run_id=run_id, plan_id=plan_id, cancelled_at=now, cancelled_by=user_id))
        self._session.flush()

    def cancelled(self, runs: Iterable[tuple[int, str]] | None = None) -> set[int]:
        """The integer ids of these runs (all recorded runs when None) that ended through cancel."""
        if runs is None:
            return set(self._session.scalars(select(RunCancelRow.dag_run_id)))
        wanted = dict(runs)
        if not wanted:
            return set()
        rows = self._session.execute(select(RunCancelRow.dag_run_id, RunCancelRow.run_id).where(RunCancelRow.dag_run_id.in_(list(wanted))))
        return {pk for pk, run_id in rows if wanted.get(pk) == run_id}

    def cancelled_runs(self) -> set[tuple[int, str]]:
        """Every recorded (integer id, Airflow run id)."""
        return {(pk, run_id) for pk, run_id in self._session.execute(select(RunCancelRow.dag_run_id, RunCancelRow.run_id))}

    def forget_plan(self, plan_id: int) -> None:
        """Drop the records of a deleted plan (its runs are gone with its DAG)."""
        self._session.execute(delete(RunCancelRow).where(RunCancelRow.plan_id == plan_id))
