"""Reads and writes plans in taskcenter's tables; maps rows to domain values."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from taskcenter.adapters.store.models import PlanItemRow, PlanRow
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan, PlanItem, PlanPage, PlanQuery, TriggerType


class PlanRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def list(self, query: PlanQuery) -> PlanPage:
        conditions = []
        if query.entity_group is not None:
            conditions.append(PlanRow.entity_group == query.entity_group)
        if query.entity_key is not None:
            conditions.append(PlanRow.entity_key == query.entity_key)
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


def _to_item(row: PlanItemRow) -> PlanItem:
    return PlanItem(
        id=row.id,
        plan_id=row.plan_id,
        trigger_type=TriggerType(row.trigger_type),
        cron_desc=row.cron_desc,
        cron_type=row.cron_type,
        time_zone=row.time_zone,
        trigger_by_jobs=tuple(
            EntityRef(entity_group=ref["entityGroup"], entity_key=ref["entityKey"])
            for ref in row.trigger_by_jobs or ()
        ),
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
        items=tuple(_to_item(item) for item in row.items),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )
