"""`/api/schedules`: execution plans (执行计划), spec 1.2.1 and 1.2.4 to 1.2.10."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query

from api_plugin.datamodels.schedules import CancelBody, CreatePlanBody, EmptyBody, UpdatePlanBody, plan_to_wire, user_to_wire
from api_plugin.deps import ContextServiceDep, PlanServiceDep, ServiceCallerDep
from api_plugin.envelope import success
from taskcenter.domain.errors import InvalidInputError
from taskcenter.domain.plan_requests import entity_group as parse_entity_group
from taskcenter.domain.plans import EntityRef, PlanQuery
from taskcenter.domain.runs import parse_statuses

router = APIRouter(prefix="/api/schedules", tags=["schedules"])


def _creators(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InvalidInputError("entityCreatedByList: a comma-separated list of user ids", field="entityCreatedByList") from None


def plan_query(*, offset: int, limit: int, entity_key: str | None, entity_group: str | None, q: str | None, creators: str | None, statuses: str | None) -> PlanQuery:
    return PlanQuery(
        offset=offset,
        limit=limit,
        entity_key=entity_key,
        entity_group=entity_group,
        q=q or None,
        entity_created_by=_creators(creators),
        job_statuses=parse_statuses(statuses, field="jobStatusList"),
    )


@router.post("")
def create_schedule(body: CreatePlanBody, service: PlanServiceDep, caller: ServiceCallerDep) -> dict[str, Any]:
    view = service.write_plan(body.model_dump(exclude_unset=True), caller)
    return success(plan_to_wire(view))


@router.get("")
def list_schedules(
    service: PlanServiceDep,
    offset: int = Query(0),
    limit: int = Query(10),
    entity_key: str | None = Query(None, alias="entityKey"),
    entity_group: str | None = Query(None, alias="entityGroup"),
    q: str | None = Query(None),
    entity_created_by_list: str | None = Query(None, alias="entityCreatedByList"),
    job_status_list: str | None = Query(None, alias="jobStatusList"),
) -> dict[str, Any]:
    listing = service.list_plans(
        plan_query(offset=offset, limit=limit, entity_key=entity_key, entity_group=entity_group, q=q, creators=entity_created_by_list, statuses=job_status_list)
    )
    return success(
        [plan_to_wire(view) for view in listing.views],
        totalHits=listing.total,
        offset=offset,
        totalDiskUsage=listing.total_disk_usage,
        totalDatasets=listing.total_datasets,
    )


@router.get("/users")
def schedule_users(
    service: PlanServiceDep,
    entity_key: str | None = Query(None, alias="entityKey"),
    entity_group: str | None = Query(None, alias="entityGroup"),
    q: str | None = Query(None),
    job_status_list: str | None = Query(None, alias="jobStatusList"),
) -> dict[str, Any]:
    users = service.users(plan_query(offset=0, limit=1, entity_key=entity_key, entity_group=entity_group, q=q, creators=None, statuses=job_status_list))
    return success([user_to_wire(u) for u in users])


@router.post("/cancel")
def cancel_by_entity(body: CancelBody, service: ContextServiceDep, caller: ServiceCallerDep) -> dict[str, Any]:
    """1.2.3: cancel the running and pending runs of the entity's plan."""
    ref = EntityRef(entity_group=parse_entity_group(body.entityGroup).value, entity_key=body.entityKey)
    service.cancel_entity(ref, caller)
    return success(include_data=False)


@router.put("/{schedule_id}/cancel")
def cancel_schedule(schedule_id: int, service: ContextServiceDep, caller: ServiceCallerDep, _: EmptyBody | None = Body(None)) -> dict[str, Any]:
    """1.2.2: cancel the running and pending runs of the plan; the plan and its triggers stay."""
    service.cancel_plan(schedule_id, caller)
    return success(include_data=False)


@router.get("/{schedule_id}")
def get_schedule(schedule_id: int, service: PlanServiceDep) -> dict[str, Any]:
    return success(plan_to_wire(service.get_plan(schedule_id)))


@router.put("/{schedule_id}")
def update_schedule(schedule_id: int, body: UpdatePlanBody, service: PlanServiceDep, caller: ServiceCallerDep) -> dict[str, Any]:
    view = service.update_plan(schedule_id, body.model_dump(exclude_unset=True), caller)
    return success(plan_to_wire(view))


@router.post("/{schedule_id}/enable")
def enable_schedule(schedule_id: int, service: PlanServiceDep, caller: ServiceCallerDep, _: EmptyBody | None = Body(None)) -> dict[str, Any]:
    service.set_enabled(schedule_id, enabled=True, caller=caller)
    return success(include_data=False)


@router.post("/{schedule_id}/disable")
def disable_schedule(schedule_id: int, service: PlanServiceDep, caller: ServiceCallerDep, _: EmptyBody | None = Body(None)) -> dict[str, Any]:
    service.set_enabled(schedule_id, enabled=False, caller=caller)
    return success(include_data=False)


@router.delete("/{schedule_id}")
def delete_schedule(schedule_id: int, service: PlanServiceDep) -> dict[str, Any]:
    service.delete_plan(schedule_id)
    return success(include_data=False)
