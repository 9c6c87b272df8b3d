"""`/api/schedules`: execution plans (执行计划), spec 1.2.1 to 1.2.10."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path

from api_plugin.blocking import run_waiting
from api_plugin.datamodels.paths import parse_path_id
from api_plugin.datamodels.queries import FiltersDep, PageDep
from api_plugin.datamodels.responses import EmptyEnvelope, PlanEnvelope, PlanListEnvelope, UsersEnvelope, answers
from api_plugin.datamodels.schedules import (
    CancelBody,
    CreatePlanBody,
    EmptyBody,
    UpdatePlanBody,
    plan_to_wire,
    user_to_wire,
)
from api_plugin.deps import CallerDep, ContextServiceDep, DisplayZoneDep, PlanTargetsDep, PlanViewsDep, PlanWritesDep
from api_plugin.envelope import success
from api_plugin.security import ReadablePlansDep, authorize, authorize_entity, requires
from api_plugin.strict_json import StrictJsonRoute
from taskcenter.domain.plan_requests import entity_group as parse_entity_group
from taskcenter.domain.plans import EntityRef

router = APIRouter(prefix="/api/schedules", tags=["schedules"], route_class=StrictJsonRoute)


def _schedule_id(schedule_id: Annotated[str, Path(alias="scheduleId")]) -> int:
    return parse_path_id(schedule_id, field="scheduleId", what="plan")


ScheduleId = Annotated[int, Depends(_schedule_id)]
NoBody = Annotated[EmptyBody | None, Body()]


@router.post("", **answers(PlanEnvelope))
async def create_schedule(
    body: CreatePlanBody, service: PlanWritesDep, caller: CallerDep, targets: PlanTargetsDep, zone: DisplayZoneDep
) -> dict[str, Any]:
    """1.2.1: create or replace the entity's plan; only ONCE items: run it now (`sync`: until it ends)."""
    ref = EntityRef(entity_group=parse_entity_group(body.entityGroup).value, entity_key=body.entityKey)
    plan_id = authorize_entity(caller, targets, ref, method="PUT")  # a new plan: edit of every DAG
    if body.planItems and all(item.triggerType == "ONCE" for item in body.planItems):
        authorize(caller, method="POST", entity="RUN", plan_id=plan_id)
    view = await run_waiting(service.write_plan, body.to_command(), caller)
    return success(plan_to_wire(view, zone=zone))


@router.get("", dependencies=[requires("GET")], **answers(PlanListEnvelope))
def list_schedules(
    service: PlanViewsDep, filters: FiltersDep, page: PageDep, readable: ReadablePlansDep, zone: DisplayZoneDep
) -> dict[str, Any]:
    """1.2.9: a page of plans; the totals cover every matching plan the caller may read."""
    listing = service.list_plans(filters.query(offset=page.offset, limit=page.limit, plan_ids=readable))
    return success(
        [plan_to_wire(view, zone=zone) for view in listing.views],
        totalHits=listing.total,
        offset=page.offset,
        totalDiskUsage=listing.total_disk_usage,
        totalDatasets=listing.total_datasets,
    )


@router.get("/users", dependencies=[requires("GET")], **answers(UsersEnvelope))
def schedule_users(service: PlanViewsDep, filters: FiltersDep, readable: ReadablePlansDep) -> dict[str, Any]:
    """1.2.10: the users who created the entities of the matching plans."""
    return success([user_to_wire(u) for u in service.users(filters.query(plan_ids=readable))])


@router.post("/cancel", **answers(EmptyEnvelope))
def cancel_by_entity(
    body: CancelBody, service: ContextServiceDep, caller: CallerDep, targets: PlanTargetsDep
) -> dict[str, Any]:
    """1.2.3: cancel the running and pending runs of the entity's plan."""
    ref = EntityRef(entity_group=parse_entity_group(body.entityGroup).value, entity_key=body.entityKey)
    authorize_entity(caller, targets, ref, method="PUT", entity="RUN")
    service.cancel_entity(ref, caller)
    return success(include_data=False)


@router.put("/{scheduleId}/cancel", dependencies=[requires("PUT", "RUN")], **answers(EmptyEnvelope))
def cancel_schedule(
    schedule_id: ScheduleId, service: ContextServiceDep, caller: CallerDep, _: NoBody = None
) -> dict[str, Any]:
    """1.2.2: cancel the running and pending runs of the plan; the plan and its triggers stay."""
    service.cancel_plan(schedule_id, caller)
    return success(include_data=False)


@router.get("/{scheduleId}", dependencies=[requires("GET")], **answers(PlanEnvelope))
def get_schedule(schedule_id: ScheduleId, service: PlanViewsDep, zone: DisplayZoneDep) -> dict[str, Any]:
    """1.2.8."""
    return success(plan_to_wire(service.get_plan(schedule_id), zone=zone))


@router.put("/{scheduleId}", dependencies=[requires("PUT")], **answers(PlanEnvelope))
def update_schedule(
    schedule_id: ScheduleId, body: UpdatePlanBody, service: PlanWritesDep, caller: CallerDep, zone: DisplayZoneDep
) -> dict[str, Any]:
    """1.2.5: replace planItems as a whole and/or set enabled."""
    view = service.update_plan(schedule_id, body.to_command(), caller)
    return success(plan_to_wire(view, zone=zone))


@router.post("/{scheduleId}/enable", dependencies=[requires("PUT")], **answers(EmptyEnvelope))
def enable_schedule(
    schedule_id: ScheduleId, service: PlanWritesDep, caller: CallerDep, _: NoBody = None
) -> dict[str, Any]:
    """1.2.6."""
    service.set_enabled(schedule_id, enabled=True, caller=caller)
    return success(include_data=False)


@router.post("/{scheduleId}/disable", dependencies=[requires("PUT")], **answers(EmptyEnvelope))
def disable_schedule(
    schedule_id: ScheduleId, service: PlanWritesDep, caller: CallerDep, _: NoBody = None
) -> dict[str, Any]:
    """1.2.7."""
    service.set_enabled(schedule_id, enabled=False, caller=caller)
    return success(include_data=False)


@router.delete("/{scheduleId}", dependencies=[requires("DELETE")], **answers(EmptyEnvelope))
def delete_schedule(schedule_id: ScheduleId, service: PlanWritesDep) -> dict[str, Any]:
    """1.2.4: the plan, its DAG file and its DAG (runs included) go."""
    service.delete_plan(schedule_id)
    return success(include_data=False)
