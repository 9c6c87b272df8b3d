"""Reads and writes plans in taskcenter's tables; maps rows to domain values.

Concurrency: `(entity_group, entity_key)` is unique, so two concurrent creates of one plan cannot
both insert (the loser updates the winner's row); every plan row carries a revision
(`version_id_col`), so of two concurrent updates one fails with `ConflictError` instead of
silently overwriting the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from taskcenter.adapters.store.models import PlanItemRow, PlanRow
from taskcenter.domain.errors import ConflictError
from taskcenter.domain.plan_requests import ItemRequest
from taskcenter.domain.plans import DependencyTrigger, EntityRef, ExecDetail, Plan, PlanItem, PlanPage, PlanQuery, TriggerType


class PlanRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- reads ---------------------------------------------------------------------------------

    def get(self, plan_id: int) -> Plan | None:
        row = self._row(plan_id)
        return None if row is None else _to_plan(row)

    def get_by_entity(self, ref: EntityRef) -> Plan | None:
        row = self._session.scalar(
            select(PlanRow)
            .where(PlanRow.entity_group == ref.entity_group, PlanRow.entity_key == ref.entity_key)
            .options(selectinload(PlanRow.items))
        )
        return None if row is None else _to_plan(row)

    def list(self, query: PlanQuery, *, only_ids: Sequence[int] | None = None) -> PlanPage:
        conditions = self._conditions(query)
        if only_ids is not None:
            conditions.append(PlanRow.id.in_(only_ids) if only_ids else PlanRow.id.is_(None))
        total = self._session.scalar(select(func.count(PlanRow.id)).where(*conditions)) or 0
        rows = self._session.scalars(
            select(PlanRow)
            .where(*conditions)
            .options(selectinload(PlanRow.items))
            .order_by(PlanRow.id)
            .offset(query.offset)
            .limit(query.limit)
        ).all()
        return PlanPage(total=total, plans=tuple(_to_plan(row) for row in rows))

    def matching_ids(self, query: PlanQuery) -> list[int]:
        """Ids of the plans matching the SQL-side filters (all but job status), in id order."""
        return list(self._session.scalars(select(PlanRow.id).where(*self._conditions(query)).order_by(PlanRow.id)))

    def all(self) -> list[Plan]:
        rows = self._session.scalars(select(PlanRow).options(selectinload(PlanRow.items)).order_by(PlanRow.id)).all()
        return [_to_plan(row) for row in rows]

    def dependency_edges(self) -> dict[EntityRef, list[EntityRef]]:
        """plan entity -> its upstream entities, over every stored plan."""
        edges: dict[EntityRef, list[EntityRef]] = {}
        for plan in self.all():
            edges[plan.ref] = list(plan.upstreams)
        return edges

    def finished_subscribers(self, ref: EntityRef) -> bool:
        """Whether any plan waits for this entity's runs to *end* (triggerOn FINISHED)."""
        return any(
            upstream == ref and when is DependencyTrigger.FINISHED for plan in self.all() for upstream, when in plan.upstream_triggers()
        )

    def item(self, item_id: int) -> PlanItem | None:
        row = self._session.get(PlanItemRow, item_id)
        return None if row is None else _to_item(row)

    @staticmethod
    def _conditions(query: PlanQuery) -> list[Any]:
        conditions: list[Any] = []
        if query.entity_group is not None:
            conditions.append(PlanRow.entity_group == query.entity_group)
        if query.entity_key is not None:
            conditions.append(PlanRow.entity_key == query.entity_key)
        if query.q:
            pattern = f"%{query.q.lower()}%"
            conditions.append(or_(func.lower(PlanRow.title).like(pattern), func.lower(PlanRow.entity_key).like(pattern)))
        if query.entity_created_by:
            conditions.append(PlanRow.entity_created_by.in_(query.entity_created_by))
        return conditions

    def _row(self, plan_id: int) -> PlanRow | None:
        return self._session.scalar(select(PlanRow).where(PlanRow.id == plan_id).options(selectinload(PlanRow.items)))

    # -- writes --------------------------------------------------------------------------------

    def create(
        self,
        *,
        ref: EntityRef,
        exec_detail: ExecDetail,
        enabled: bool,
        items: Iterable[ItemRequest],
        title: str | None,
        entity_created_by: int | None,
        user_id: int | None,
        now: datetime,
    ) -> Plan | None:
        """Insert a new plan; None when a concurrent request created the same entity's plan first."""
        row = PlanRow(
            entity_group=ref.entity_group,
            entity_key=ref.entity_key,
            enabled=enabled,
            job_class=exec_detail.job_class,
            job_params=dict(exec_detail.job_params),
            retry_times=exec_detail.retry_times,
            title=title,
            entity_created_by=entity_created_by,
            created_at=now,
            created_by=user_id,
            updated_at=now,
            updated_by=user_id,
        )
        row.items = [_new_item(item, user_id=user_id, now=now) for item in items]
        try:
            with self._session.begin_nested():
                self._session.add(row)
                self._session.flush()
        except IntegrityError:
            return None
        return _to_plan(row)

    def update(
        self,
        plan_id: int,
        *,
        exec_detail: ExecDetail | None = None,
        enabled: bool | None = None,
        items: Sequence[ItemRequest] | None = None,
        title: str | None = None,
        entity_created_by: int | None = None,
        user_id: int | None,
        now: datetime,
    ) -> Plan:
        """Change a plan; `items` (when given) replace its triggers as a whole, keeping the ids named."""
        row = self._row(plan_id)
        if row is None:
            raise LookupError(plan_id)
        if exec_detail is not None:
            row.job_class = exec_detail.job_class
            row.job_params = dict(exec_detail.job_params)
            row.retry_times = exec_detail.retry_times
        if enabled is not None:
            row.enabled = enabled
        if title is not None:
            row.title = title
        if entity_created_by is not None:
            row.entity_created_by = entity_created_by
        if items is not None:
            self._replace_triggers(row, items, user_id=user_id, now=now)
        row.updated_at = now
        row.updated_by = user_id
        self._flush()
        return _to_plan(row)

    def add_once_item(self, plan_id: int, *, user_id: int | None, now: datetime) -> PlanItem:
        row = PlanItemRow(plan_id=plan_id, trigger_type=TriggerType.ONCE.value, created_at=now, created_by=user_id, updated_at=now, updated_by=user_id)
        self._session.add(row)
        self._flush()
        return _to_item(row)

    def delete(self, plan_id: int) -> bool:
        row = self._row(plan_id)
        if row is None:
            return False
        self._session.execute(delete(PlanItemRow).where(PlanItemRow.plan_id == plan_id))
        self._session.delete(row)
        self._flush()
        return True

    def _replace_triggers(self, row: PlanRow, items: Sequence[ItemRequest], *, user_id: int | None, now: datetime) -> None:
        existing = {item.id: item for item in row.items if item.trigger_type != TriggerType.ONCE.value}
        kept: list[PlanItemRow] = [item for item in row.items if item.trigger_type == TriggerType.ONCE.value]
        for request in items:
            current = existing.pop(request.id, None) if request.id is not None else None
            if current is None:
                kept.append(_new_item(request, user_id=user_id, now=now))
                continue
            if _differs(current, request):
                _apply(current, request)
                current.updated_at = now
                current.updated_by = user_id
            kept.append(current)
        row.items = kept

    def _flush(self) -> None:
        try:
            self._session.flush()
        except StaleDataError:
            raise ConflictError("the plan was changed by another request at the same time; read it again and retry") from None


def _new_item(request: ItemRequest, *, user_id: int | None, now: datetime) -> PlanItemRow:
    row = PlanItemRow(created_at=now, created_by=user_id, updated_at=now, updated_by=user_id)
    _apply(row, request)
    return row


def _apply(row: PlanItemRow, request: ItemRequest) -> None:
    row.trigger_type = request.trigger_type.value
    row.cron_desc = request.cron_desc
    row.cron_type = request.cron_type
    row.time_zone = request.time_zone
    dependency = request.trigger_type is TriggerType.DEPENDENCY
    row.trigger_by_jobs = (
        [{"entityGroup": r.entity_group, "entityKey": r.entity_key} for r in request.trigger_by_jobs] if dependency else None
    )
    row.trigger_on = (request.trigger_on or DependencyTrigger.SUCCESSFUL).value if dependency else None


def _differs(row: PlanItemRow, request: ItemRequest) -> bool:
    probe = PlanItemRow()
    _apply(probe, request)
    return any(getattr(row, name) != getattr(probe, name) for name in ("trigger_type", "cron_desc", "cron_type", "time_zone", "trigger_by_jobs", "trigger_on"))


def _to_item(row: PlanItemRow) -> PlanItem:
    return PlanItem(
        id=row.id,
        plan_id=row.plan_id,
        trigger_type=TriggerType(row.trigger_type),
        cron_desc=row.cron_desc,
        cron_type=row.cron_type,
        time_zone=row.time_zone,
        trigger_by_jobs=tuple(
            EntityRef(entity_group=ref["entityGroup"], entity_key=ref["entityKey"]) for ref in row.trigger_by_jobs or ()
        ),
        trigger_on=DependencyTrigger(row.trigger_on) if row.trigger_on else None,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _to_plan(row: PlanRow) -> Plan:
    return Plan(
        id=row.id,
        entity_group=row.entity_group,
        entity_key=row.entity_key,
        enabled=row.enabled,
        exec_detail=ExecDetail(job_class=row.job_class, job_params=dict(row.job_params), retry_times=row.retry_times),
        items=tuple(_to_item(item) for item in sorted(row.items, key=lambda i: i.id or 0)),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        title=row.title,
        entity_created_by=row.entity_created_by,
    )
