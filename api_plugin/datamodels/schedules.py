"""The plan structure (执行计划结构说明) on the wire, and the request bodies of `/api/schedules`.

Request models check shapes and JSON types strictly and reject unknown fields (they would be
silently lost); the meaning of each value is checked by the domain (`plan_requests`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, StringConstraints

from api_plugin.datamodels.common import format_datetime
from taskcenter.domain import limits
from taskcenter.domain.plan_requests import MAX_RETRY_TIMES, ExecDetailInput, ItemInput, RefInput, UpdatePlan, WritePlan
from taskcenter.domain.plans import CronType, DependencyTrigger, EntityGroup, PlanItem, TriggerType
from taskcenter.domain.users import UserInfo
from taskcenter.services.plan_views import PlanView


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _refusing(problem_of: Callable[[Any], str | None]) -> AfterValidator:
    """A pydantic validator from a `limits` check (what it returns is the message of the 400)."""

    def validate(value: Any) -> Any:
        problem = problem_of(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


# JSON strings the columns can store: at most the column's length in characters, no NUL, valid
# Unicode. One alias per length, spelled out: a type checker takes no call in an annotation.
EntityKeyText = Annotated[
    StrictStr, StringConstraints(max_length=limits.ENTITY_KEY_LENGTH), _refusing(limits.text_problem)
]
DatetimeText = Annotated[
    StrictStr, StringConstraints(max_length=limits.DATETIME_TEXT_LENGTH), _refusing(limits.text_problem)
]
CronDescText = Annotated[
    StrictStr, StringConstraints(max_length=limits.CRON_DESC_LENGTH), _refusing(limits.text_problem)
]
TimeZoneText = Annotated[
    StrictStr, StringConstraints(max_length=limits.TIME_ZONE_LENGTH), _refusing(limits.text_problem)
]
JobClassText = Annotated[
    StrictStr, StringConstraints(max_length=limits.JOB_CLASS_LENGTH), _refusing(limits.text_problem)
]


Id = Annotated[StrictInt, Field(ge=0, le=limits.MAX_ID)]


# The entity groups, in the published schema (the domain checks the value and names them all).
EntityGroupText = Annotated[
    StrictStr,
    StringConstraints(max_length=limits.ENTITY_GROUP_LENGTH),
    _refusing(limits.text_problem),
    Field(json_schema_extra={"enum": [g.value for g in EntityGroup]}),
]
# The cron types and dependency triggers likewise.
CronTypeText = Annotated[
    StrictStr,
    StringConstraints(max_length=limits.CRON_TYPE_LENGTH),
    _refusing(limits.text_problem),
    Field(json_schema_extra={"enum": [t.value for t in CronType]}),
]
TriggerOnText = Annotated[
    StrictStr,
    StringConstraints(max_length=limits.TRIGGER_TYPE_LENGTH),
    _refusing(limits.text_problem),
    Field(json_schema_extra={"enum": [t.value for t in DependencyTrigger]}),
]


class EntityRefBody(_Body):
    entityGroup: EntityGroupText
    entityKey: EntityKeyText

    def to_input(self) -> RefInput:
        return RefInput(entity_group=self.entityGroup, entity_key=self.entityKey)


class _ItemBody(_Body):
    """Fields every plan item has. The read-only ones a client may send back as it read them;
    a write does not change them. Another kind's fields may be sent as null, as read."""

    id: Id | None = None
    planId: Id | None = None
    createdAt: DatetimeText | None = None
    createdBy: Id | None = None
    updatedAt: DatetimeText | None = None
    updatedBy: Id | None = None


class CronItemBody(_ItemBody):
    """A Quartz cron trigger (a 5-field Unix cron is accepted too, docs/cron.md)."""

    triggerType: Literal["CRON_JOB"]
    cronDesc: CronDescText | None = None
    cronType: CronTypeText | None = None
    timeZone: TimeZoneText | None = None
    triggerByJobs: None = None
    triggerOn: None = None

    def to_input(self) -> ItemInput:
        return ItemInput(
            trigger_type=self.triggerType,
            id=self.id,
            cron_desc=self.cronDesc,
            cron_type=self.cronType,
            time_zone=self.timeZone,
        )


class DependencyItemBody(_ItemBody):
    """Runs after any of `triggerByJobs` succeeded (or, `triggerOn: FINISHED`, ended)."""

    triggerType: Literal["DEPENDENCY"]
    triggerByJobs: Annotated[list[EntityRefBody], Field(max_length=limits.MAX_UPSTREAMS)] | None = None
    # extension: SUCCESSFUL (default) or FINISHED; the domain checks the value (its message lists them)
    triggerOn: TriggerOnText | None = None
    cronDesc: None = None
    cronType: None = None
    timeZone: None = None

    def to_input(self) -> ItemInput:
        refs = None if self.triggerByJobs is None else tuple(ref.to_input() for ref in self.triggerByJobs)
        return ItemInput(trigger_type=self.triggerType, id=self.id, trigger_by_jobs=refs, trigger_on=self.triggerOn)


class OnceItemBody(_ItemBody):
    """Run now (`POST /api/schedules` only); not stored as a trigger."""

    triggerType: Literal["ONCE"]
    cronDesc: None = None
    cronType: None = None
    timeZone: None = None
    triggerByJobs: None = None
    triggerOn: None = None

    def to_input(self) -> ItemInput:
        return ItemInput(trigger_type=self.triggerType, id=self.id)


PlanItemBody = Annotated[CronItemBody | DependencyItemBody | OnceItemBody, Field(discriminator="triggerType")]
PlanItems = Annotated[list[PlanItemBody], Field(max_length=limits.MAX_PLAN_ITEMS)]
# Which kind of item has each kind-specific field, for the 400 on another kind's item.
ITEM_FIELD_KINDS = {
    "cronDesc": "CRON_JOB",
    "cronType": "CRON_JOB",
    "timeZone": "CRON_JOB",
    "triggerByJobs": "DEPENDENCY",
    "triggerOn": "DEPENDENCY",
}


def _items(items: list[Any] | None) -> tuple[ItemInput, ...] | None:
    return None if items is None else tuple(item.to_input() for item in items)


class ExecDetailBody(_Body):
    jobClass: JobClassText | None = None
    jobParams: Annotated[dict[str, Any], _refusing(limits.job_params_problem)] | None = None
    retryTimes: StrictInt | None = Field(default=None, ge=0, le=MAX_RETRY_TIMES)

    def to_input(self) -> ExecDetailInput:
        return ExecDetailInput(job_class=self.jobClass, job_params=self.jobParams, retry_times=self.retryTimes)


class CreatePlanBody(_Body):
    entityGroup: EntityGroupText
    entityKey: EntityKeyText
    planItems: PlanItems | None = None
    enabled: StrictBool | None = None
    execDetail: ExecDetailBody | None = None
    sync: StrictBool = False

    def to_command(self) -> WritePlan:
        return WritePlan(
            entity_group=self.entityGroup,
            entity_key=self.entityKey,
            items=_items(self.planItems),
            enabled=self.enabled,
            exec_detail=None if self.execDetail is None else self.execDetail.to_input(),
            sync=self.sync,
        )


class UpdatePlanBody(_Body):
    """Only `planItems` and `enabled` can change (spec 1.2.5)."""

    planItems: PlanItems | None = None
    enabled: StrictBool | None = None

    def to_command(self) -> UpdatePlan:
        # `planItems` sent (even null: remove all) replaces them; absent keeps them.
        return UpdatePlan(
            replace_items="planItems" in self.model_fields_set, items=_items(self.planItems) or (), enabled=self.enabled
        )


class CancelBody(_Body):
    entityGroup: EntityGroupText
    entityKey: EntityKeyText


class EmptyBody(_Body):
    pass


def plan_item_to_wire(item: PlanItem, *, zone: tzinfo) -> dict[str, Any]:
    body: dict[str, Any] = {"id": item.id, "planId": item.plan_id, "triggerType": item.trigger_type.value}
    if item.trigger_type is TriggerType.CRON_JOB:
        body.update(cronDesc=item.cron_desc, cronType=item.cron_type, timeZone=item.time_zone)
    elif item.trigger_type is TriggerType.DEPENDENCY:
        body["triggerByJobs"] = [
            {"entityGroup": r.entity_group, "entityKey": r.entity_key} for r in item.trigger_by_jobs
        ]
        body["triggerOn"] = (item.trigger_on or DependencyTrigger.SUCCESSFUL).value
    body.update(
        createdAt=format_datetime(item.created_at, zone=zone),
        createdBy=item.created_by,
        updatedAt=format_datetime(item.updated_at, zone=zone),
        updatedBy=item.updated_by,
    )
    return body


def plan_to_wire(view: PlanView, *, zone: tzinfo) -> dict[str, Any]:
    plan, entity, run = view.plan, view.entity, view.latest_run
    first_cron = next((i for i in plan.items if i.trigger_type is TriggerType.CRON_JOB), None)
    return {
        "id": plan.id,
        "entityGroup": plan.entity_group,
        "entityKey": plan.entity_key,
        "enabled": plan.enabled,
        "planItems": [plan_item_to_wire(item, zone=zone) for item in view.items],
        "execDetail": {
            "jobClass": plan.exec_detail.job_class,
            "jobParams": plan.exec_detail.job_params,
            "retryTimes": plan.exec_detail.retry_times,
        },
        "title": entity.title if entity else plan.title,
        "createdAt": format_datetime(plan.created_at, zone=zone),
        "createdBy": plan.created_by,
        "updatedAt": format_datetime(plan.updated_at, zone=zone),
        "updatedBy": plan.updated_by,
        "entityCreatedBy": entity.created_by if entity else plan.entity_created_by,
        "entityCreatedByName": view.entity_created_by_name,
        "execFrequency": first_cron.cron_type if first_cron else None,
        "startAt": format_datetime(run.start_at, zone=zone) if run else None,
        "stopAt": format_datetime(run.stop_at, zone=zone) if run else None,
        "jobStatus": run.status.value if run else "NONE",
        "costTime": run.cost_time if run else None,
        "contextId": view.context_id,
        "nextStartAt": format_datetime(view.next_start_at, zone=zone),
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
