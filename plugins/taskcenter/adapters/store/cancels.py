"""Which DAG runs ended through cancel (the API's CANCELLED status)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskcenter.adapters.store.models import RunCancelRow


class CancelRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, run_ids: Iterable[int], *, plan_id: int, user_id: int | None, now: datetime) -> None:
        for run_id in run_ids:
            if self._session.get(RunCancelRow, run_id) is None:
                self._session.add(RunCancelRow(dag_run_id=run_id, plan_id=plan_id, cancelled_at=now, cancelled_by=user_id))
        self._session.flush()

    def cancelled(self, run_ids: Iterable[int] | None = None) -> set[int]:
        query = select(RunCancelRow.dag_run_id)
        if run_ids is not None:
            ids = list(run_ids)
            if not ids:
                return set()
            query = query.where(RunCancelRow.dag_run_id.in_(ids))
        return set(self._session.scalars(query))
