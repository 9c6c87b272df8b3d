"""Plans' generated DAG files as the database keeps them (see migration 0011).

The digest decides whether a file changed: a host compares digests (one small read for every
plan) and fetches only the contents that differ.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from taskcenter.adapters.store.models import PlanFileRow
from taskcenter.adapters.store.transactions import dialect_insert


class Stored(enum.Enum):
    UNCHANGED = "unchanged"
    NEW = "new"  # no file of the plan was kept yet (a new plan, or the first fill after migration 0011)
    CHANGED = "changed"


def digest_of(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class PlanFile:
    plan_id: int
    relative_path: str
    content: str
    digest: str
    written_at: datetime


class PlanFileStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def put(self, plan_id: int, *, relative_path: str, content: str, now: datetime) -> Stored:
        """Store the plan's file (one upsert, unless it is there as it is)."""
        digest = digest_of(content)
        current = self._session.execute(
            select(PlanFileRow.digest, PlanFileRow.relative_path).where(PlanFileRow.plan_id == plan_id)
        ).first()
        if current is not None and tuple(current) == (digest, relative_path):
            return Stored.UNCHANGED
        table = PlanFileRow.__table__
        insert = dialect_insert(self._session.get_bind().dialect.name)
        values = {"relative_path": relative_path, "content": content, "digest": digest, "written_at": now}
        statement = insert(table).values(plan_id=plan_id, **values)
        self._session.execute(statement.on_conflict_do_update(index_elements=[table.c.plan_id], set_=values))
        return Stored.NEW if current is None else Stored.CHANGED

    def remove(self, plan_id: int) -> None:
        self._session.execute(delete(PlanFileRow).where(PlanFileRow.plan_id == plan_id))

    def remove_all_but(self, plan_ids: Iterable[int]) -> list[int]:
        """Drop the files of plans that no longer exist (reconcile); the plans whose file went."""
        keep = set(plan_ids)
        gone = [pid for pid in self._session.scalars(select(PlanFileRow.plan_id)) if pid not in keep]
        if gone:
            self._session.execute(delete(PlanFileRow).where(PlanFileRow.plan_id.in_(gone)))
        return gone

    def manifest(self) -> dict[int, str]:
        """Every plan's file digest, by plan id."""
        return dict(self._session.execute(select(PlanFileRow.plan_id, PlanFileRow.digest)).tuples().all())

    def files(self, plan_ids: Iterable[int]) -> list[PlanFile]:
        ids = sorted(set(plan_ids))
        if not ids:
            return []
        rows = self._session.scalars(select(PlanFileRow).where(PlanFileRow.plan_id.in_(ids)))
        return [
            PlanFile(
                plan_id=row.plan_id,
                relative_path=row.relative_path,
                content=row.content,
                digest=row.digest,
                written_at=row.written_at,
            )
            for row in rows
        ]
