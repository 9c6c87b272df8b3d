"""The plan structure (执行计划结构说明) on the wire."""

from __future__ import annotations

from typing import Any

from api_plugin.datamodels.common import format_datetime
from taskcenter.domain.plans import Plan, PlanItem, TriggerType


def plan_item_to_wire(item: PlanItem) -> dict[str, Any]:
    body: dict[str, Any] = {"id": item.id, "planId": item.plan_id, "triggerType": item.trigger_type.value}
    if item.trigger_type is TriggerType.CRON_JOB:
        body.update(cronDesc=item.cron_desc, cronType=item.cron_type, timeZone=item.time_zone)
    elif item.trigger_type is TriggerType.DEPENDENCY:
        body["triggerByJobs"] = [
            {"entityGroup": ref.entity_group, "entityKey": ref.entity_key} for ref in item.trigger_by_jobs
        ]
    body.update(
        createdAt=format_datetime(item.created_at),
        createdBy=item.created_by,
        updatedAt=format_datetime(item.updated_at),
        updatedBy=item.updated_by,
    )
    return body


def plan_to_wire(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "entityGroup": plan.entity_group,
        "entityKey": plan.entity_key,
        "enabled": plan.enabled,
        "planItems": [plan_item_to_wire(item) for item in plan.items],
        "execDetail": {
            "jobClass": plan.exec_detail.job_class,
            "jobParams": plan.exec_detail.job_params,
            "retryTimes": plan.exec_detail.retry_times,
        },
        "createdAt": format_datetime(plan.created_at),
        "createdBy": plan.created_by,
        "updatedAt": format_datetime(plan.updated_at),
        "updatedBy": plan.updated_by,
    }
