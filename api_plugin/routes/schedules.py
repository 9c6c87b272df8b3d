"""`/api/schedules`: execution plans (执行计划)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from api_plugin.datamodels.schedules import plan_to_wire
from api_plugin.deps import PlanServiceDep
from api_plugin.envelope import success
from taskcenter.domain.plans import PlanQuery

router = APIRouter(prefix="/api/schedules", tags=["schedules"])


@router.get("")
def list_schedules(
    service: PlanServiceDep,
    offset: int = Query(0),
    limit: int = Query(10),
    entity_key: str | None = Query(None, alias="entityKey"),
    entity_group: str | None = Query(None, alias="entityGroup"),
) -> dict[str, Any]:
    page = service.list_plans(
        PlanQuery(offset=offset, limit=limit, entity_group=entity_group, entity_key=entity_key)
    )
    return success(
        [plan_to_wire(plan) for plan in page.plans],
        totalHits=page.total,
        offset=offset,
        totalDiskUsage=0,
        totalDatasets=0,
    )
