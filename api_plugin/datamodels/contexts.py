"""The context structure (任务执行进度信息结构说明) on the wire."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from api_plugin.datamodels.common import format_datetime
from api_plugin.datamodels.schedules import plan_item_to_wire
from taskcenter.services.contexts import ContextView


def context_to_wire(view: ContextView, *, zone: tzinfo) -> dict[str, Any]:
    run, plan, entity = view.run, view.plan, view.entity
    scheduled = format_datetime(run.queued_at or run.run_after, zone=zone)
    # Airflow stamps queued_at when it builds the run and created_at when it inserts the row, a few
    # microseconds later: the context was created when it was queued, never after.
    created = min((t for t in (run.created_at, run.queued_at) if t is not None), default=None)
    return {
        "id": run.id,
        "planId": plan.id,
        "entityGroup": plan.entity_group,
        "entityKey": plan.entity_key,
        "jobStatus": view.status.value,
        "createdAt": format_datetime(created, zone=zone),
        "createdBy": view.created_by,
        # The spec's table says scheduledAt, its examples scheduleAt: both are returned.
        "scheduledAt": scheduled,
        "scheduleAt": scheduled,
        "startAt": format_datetime(run.start_date, zone=zone),
        "stopAt": format_datetime(run.end_date, zone=zone),
        "planItemId": view.item.id if view.item else None,
        "planItem": plan_item_to_wire(view.item, zone=zone) if view.item else None,
        # Logs and results are addressed by the context itself (/api/contexts/{id}/logs, /results).
        "jobLogId": run.id,
        "jobResultId": run.id,
        "heartbeatTime": format_datetime(view.heartbeat, zone=zone),
        "execDetail": {
            "jobClass": plan.exec_detail.job_class,
            "jobParams": plan.exec_detail.job_params,
            "retryTimes": plan.exec_detail.retry_times,
        },
        "title": entity.title if entity else plan.title,
        "entityCreatedByName": view.entity_created_by_name,
        "costTime": view.cost_time,
        "path": entity.path if entity else None,
        "importType": entity.import_type if entity else None,
        "diskUsage": entity.disk_usage if entity else None,
        "datasetCount": entity.dataset_count if entity else None,
    }
