"""`/api/contexts`: execution contexts (任务执行进度信息), spec 1.2.11 to 1.2.13."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from api_plugin.datamodels.contexts import context_to_wire
from api_plugin.datamodels.schedules import user_to_wire
from api_plugin.deps import ContextServiceDep
from api_plugin.envelope import success
from api_plugin.routes.schedules import plan_query

router = APIRouter(prefix="/api/contexts", tags=["contexts"])


def _statuses(job_status: str | None, job_status_list: str | None) -> str | None:
    return ",".join(s for s in (job_status, job_status_list) if s) or None


@router.get("")
def list_contexts(
    service: ContextServiceDep,
    offset: int = Query(0),
    limit: int = Query(10),
    entity_key: str | None = Query(None, alias="entityKey"),
    entity_group: str | None = Query(None, alias="entityGroup"),
    job_status: str | None = Query(None, alias="jobStatus"),
    q: str | None = Query(None),
    entity_created_by_list: str | None = Query(None, alias="entityCreatedByList"),
    job_status_list: str | None = Query(None, alias="jobStatusList"),
) -> dict[str, Any]:
    query = plan_query(
        offset=offset,
        limit=limit,
        entity_key=entity_key,
        entity_group=entity_group,
        q=q,
        creators=entity_created_by_list,
        statuses=_statuses(job_status, job_status_list),
    )
    listing = service.list(query)
    return success([context_to_wire(v) for v in listing.views], totalHits=listing.total, offset=offset)


@router.get("/users")
def context_users(
    service: ContextServiceDep,
    entity_key: str | None = Query(None, alias="entityKey"),
    entity_group: str | None = Query(None, alias="entityGroup"),
    job_status: str | None = Query(None, alias="jobStatus"),
    q: str | None = Query(None),
    job_status_list: str | None = Query(None, alias="jobStatusList"),
) -> dict[str, Any]:
    query = plan_query(
        offset=0, limit=1, entity_key=entity_key, entity_group=entity_group, q=q, creators=None, statuses=_statuses(job_status, job_status_list)
    )
    return success([user_to_wire(u) for u in service.users(query)])


@router.get("/{context_id}/logs")
def context_logs(context_id: int, service: ContextServiceDep, block: bool = Query(True)) -> dict[str, Any]:
    """1.2.14: logs per subKey; block=true waits (bounded by [taskcenter] logs_block_timeout) for the end."""
    output = service.logs(context_id, block=block)
    return success([{"subKey": p.sub_key, "logs": list(p.logs)} for p in output.parts], done=output.done)


@router.get("/{context_id}/results")
def context_results(context_id: int, service: ContextServiceDep, block: bool = Query(True)) -> dict[str, Any]:
    """1.2.15: results per subKey as {"schema": [...], "data": [[...]]}."""
    output = service.results(context_id, block=block)
    return success([{"subKey": p.sub_key, "result": p.result} for p in output.parts], done=output.done)


@router.get("/{context_id}")
def get_context(context_id: int, service: ContextServiceDep) -> dict[str, Any]:
    return success(context_to_wire(service.get(context_id)))
