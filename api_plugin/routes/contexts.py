"""`/api/contexts`: execution contexts (任务执行进度信息), spec 1.2.11 to 1.2.15."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api_plugin.blocking import run_waiting
from api_plugin.datamodels.contexts import context_to_wire
from api_plugin.datamodels.paths import parse_path_id
from api_plugin.datamodels.queries import FiltersDep, PageDep
from api_plugin.datamodels.responses import (
    ContextEnvelope,
    ContextListEnvelope,
    LogsEnvelope,
    ResultsEnvelope,
    UsersEnvelope,
    answers,
)
from api_plugin.datamodels.schedules import user_to_wire
from api_plugin.deps import ContextServiceDep, DisplayZoneDep
from api_plugin.envelope import success
from api_plugin.security import ReadablePlansDep, requires
from api_plugin.strict_json import StrictJsonRoute

router = APIRouter(prefix="/api/contexts", tags=["contexts"], route_class=StrictJsonRoute)

def _context_id(context_id: Annotated[str, Path(alias="contextId")]) -> int:
    return parse_path_id(context_id, field="contextId", what="context")


ContextId = Annotated[int, Depends(_context_id)]
Block = Annotated[bool, Query()]


@router.get("", dependencies=[requires("GET", "RUN")], **answers(ContextListEnvelope))
def list_contexts(
    service: ContextServiceDep, filters: FiltersDep, page: PageDep, readable: ReadablePlansDep, zone: DisplayZoneDep
) -> dict[str, Any]:
    """1.2.12: runs of the matching plans the caller may read, newest first."""
    listing = service.list_contexts(filters.query(offset=page.offset, limit=page.limit, plan_ids=readable))
    return success([context_to_wire(v, zone=zone) for v in listing.views], totalHits=listing.total, offset=page.offset)


@router.get("/users", dependencies=[requires("GET", "RUN")], **answers(UsersEnvelope))
def context_users(service: ContextServiceDep, filters: FiltersDep, readable: ReadablePlansDep) -> dict[str, Any]:
    """1.2.13: the creators of the entities of the plans with matching runs."""
    return success([user_to_wire(u) for u in service.users(filters.query(plan_ids=readable))])


@router.get("/{contextId}/logs", dependencies=[requires("GET", "TASK_LOGS")], **answers(LogsEnvelope))
async def context_logs(context_id: ContextId, service: ContextServiceDep, block: Block = True) -> dict[str, Any]:
    """1.2.14: logs per subKey; block=true waits (bounded by [taskcenter] logs_block_timeout) for the end."""
    output = await run_waiting(service.logs, context_id, block=block)
    return success([{"subKey": p.sub_key, "logs": list(p.logs)} for p in output.parts], done=output.done)


@router.get("/{contextId}/results", dependencies=[requires("GET", "XCOM")], **answers(ResultsEnvelope))
async def context_results(context_id: ContextId, service: ContextServiceDep, block: Block = True) -> dict[str, Any]:
    """1.2.15: results per subKey as {"schema": [...], "data": [[...]]}."""
    output = await run_waiting(service.results, context_id, block=block)
    return success([{"subKey": p.sub_key, "result": p.result} for p in output.parts], done=output.done)


@router.get("/{contextId}", dependencies=[requires("GET", "RUN")], **answers(ContextEnvelope))
def get_context(context_id: ContextId, service: ContextServiceDep, zone: DisplayZoneDep) -> dict[str, Any]:
    """1.2.11."""
    return success(context_to_wire(service.get(context_id), zone=zone))
