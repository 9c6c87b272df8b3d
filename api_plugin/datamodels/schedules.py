"""The plan structure (执行计划结构说明) on the wire, and the request bodies of `/api/schedules`.

Request models check shapes and JSON types strictly and reject unknown fields (they would be
silently lost); the meaning of each value is checked by the domain (`plan_requests`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, StringConstraints

from api_plugin.datamodels.common import format_datetime
from taskcenter.domain import limits
from taskcenter.domain.plan_requests import MAX_RETRY_TIMES
from taskcenter.domain.plans import DependencyTrigger, PlanItem, TriggerType
from taskcenter.services.plans import PlanView
from taskcenter.domain.users import UserInfo


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _storable(value: str) -> str:
    problem = limits.text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _job_params(value: dict[str, Any]) -> dict[str, Any]:
    problem = limits.job_params_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def Text(max_length: int) -> Any:  # noqa: N802 - a type
    """A JSON string the columns can store: at most `max_length` characters, no NUL, valid Unicode."""
    return Annotated[StrictStr, StringConstraints(max_length=max_length), AfterValidator(_storable)]


Id = Annotated[StrictInt, Field(ge=0, le=limits.MAX_ID)]


class EntityRefBody(_Body):
    entityGroup: Text(limits.ENTITY_GROUP_LENGTH)
    entityKey: Text(limits.ENTITY_KEY_LENGTH)


class PlanItemBody(_Body):
    id: Id | None = None
    planId: Id | None = None
    triggerType: Text(limits.TRIGGER_TYPE_LENGTH)
    cronDesc: Text(limits.CRON_DESC_LENGTH) | None = None
    cronType: Text(limits.CRON_TYPE_LENGTH) | None = None
    timeZone: Text(limits.TIME_ZONE_LENGTH) | None = None
    triggerByJobs: Annotated[list[EntityRefBody], Field(max_length=limits.MAX_UPSTREAMS)] | None = None
    triggerOn: Text(limits.TRIGGER_TYPE_LENGTH) | None = None  # extension: SUCCESSFUL (default) or FINISHED
    # Read-only fields a client may send back as it read them; they are not changed by a write.
    createdAt: Text(limits.DATETIME_TEXT_LENGTH) | None = None
    createdBy: Id | None = None
    updatedAt: Text(limits.DATETIME_TEXT_LENGTH) | None = None
    updatedBy: Id | None = None


class ExecDetailBody(_Body):
    jobClass: Text(limits.JOB_CLASS_LENGTH) | None = None
    jobParams: Annotated[dict[str, Any], AfterValidator(_job_params)] | None = None
    retryTimes: StrictInt | None = Field(default=None, ge=0, le=MAX_RETRY_TIMES)


PlanItems = Annotated[list[PlanItemBody], Field(max_length=limits.MAX_PLAN_ITEMS)]


class CreatePlanBody(_Body):
    entityGroup: Text(limits.ENTITY_GROUP_LENGTH)
    entityKey: Text(limits.ENTITY_KEY_LENGTH)
    planItems: PlanItems | None = None
    enabled: StrictBool | None = None
    execDetail: ExecDetailBody | None = None
    sync: StrictBool = False


class UpdatePlanBody(_Body):
    """Only `planItems` and `enabled` can change (spec 1.2.5)."""

    planItems: PlanItems | None = None
    enabled: StrictBool | None = None


class CancelBody(_Body):
    entityGroup: Text(limits.ENTITY_GROUP_LENGTH)
    entityKey: Text(limits.ENTITY_KEY_LENGTH)


class EmptyBody(_Body):
    pass


def plan_item_to_wire(item: PlanItem) -> dict[str, Any]:
    body: dict[str, Any] = {"id": item.id, "planId": item.plan_id, "triggerType": item.trigger_type.value}
    if item.trigger_type is TriggerType.CRON_JOB:
        body.update(cronDesc=item.cron_desc, cronType=item.cron_type, timeZone=item.time_zone)
    elif item.trigger_type is TriggerType.DEPENDENCY:
        body["triggerByJobs"] = [{"entityGroup": r.entity_group, "entityKey": r.entity_key} for r in item.trigger_by_jobs]
        body["triggerOn"] = (item.trigger_on or DependencyTrigger.SUCCESSFUL).value
    body.update(
        createdAt=format_datetime(item.created_at),
        createdBy=item.created_by,
        updatedAt=format_datetime(item.updated_at),
        updatedBy=item.updated_by,
    )
    return body


def plan_to_wire(view: PlanView) -> dict[str, Any]:
    plan, entity, run = view.plan, view.entity, view.latest_run
    first_cron = next((i for i in plan.items if i.trigger_type is TriggerType.CRON_JOB), None)
    return {
        "id": plan.id,
        "entityGroup": plan.entity_group,
        "entityKey": plan.entity_key,
        "enabled": plan.enabled,
        "planItems": [plan_item_to_wire(item) for item in view.items],
        "execDetail": {
            "jobClass": plan.exec_detail.job_class,
            "jobParams": plan.exec_detail.job_params,
            "retryTimes": plan.exec_detail.retry_times,
        },
        "title": entity.title if entity else plan.title,
        "createdAt": format_datetime(plan.created_at),
        "createdBy": plan.created_by,
        "updatedAt": format_datetime(plan.updated_at),
        "updatedBy": plan.updated_by,
        "entityCreatedBy": entity.created_by if entity else plan.entity_created_by,
        "entityCreatedByName": view.entity_created_by_name,
        "execFrequency": first_cron.cron_type if first_cron else None,
        "startAt": format_datetime(run.start_at) if run else None,
        "stopAt": format_datetime(run.stop_at) if run else None,
        "jobStatus": run.status.value if run else "NONE",
        "costTime": run.cost_time if run else None,
        "contextId": view.context_id,
        "nextStartAt": format_datetime(view.next_start_at),
        "path": entity.path if entity else None,
        "importType": entity.import_type if entity else None,
        "diskUsage": entity.disk_usage if entity else None,
        "datasetCount": entity.dataset_count if entity else None,
        "datasetType": entity.dataset_type if entity else None,
        "isVirtual": entity.is_virtual if entity else None,
        "updateMethod": entity.update_method if entity else None,
        "updateMethodSwitchable": entity.update_method_switchable if entity else None,
    }


def user_to_wire(user: UserInfo) -> dict[str, Any]:
    """A user as the vendor shows one; no password hash, salt or other credential material."""

    def entry(value: Any, kind: str) -> dict[str, Any]:
        item: dict[str, Any] = {"source": "SYSTEM_DEFINED", "type": kind}
        if value is not None:
            item["value"] = value
        return item

    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "description": "",
        "avatar": "",
        "enable": user.enabled,
        "userType": "internal",
        "loginName": user.login_name,
        "config": {
            "sys.email": entry(user.email, "string"),
            "sys.login_name": entry(user.login_name, "string"),
            "sys.mobile": entry(None, "string"),
            "sys.id": entry(user.id, "number"),
            "sys.loginName": entry(user.login_name, "string"),
            "sys.name": entry(user.name, "string"),
        },
        "options": {},
        "roles": [{"id": role.id, "name": role.name, "description": role.name} for role in user.roles],
        "organizations": [],
    }
