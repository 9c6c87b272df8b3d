"""What each endpoint answers, as published in the compat app's OpenAPI document.

The routes build their JSON with the `*_to_wire` functions (no validation on the way out: a page of
100 plans would pay for it on every list); these models describe that JSON for clients and for the
fuzz test, which checks every response against them (`tests/integration/test_fuzz.py`). Unknown
fields are forbidden so that the document cannot fall behind what the app sends.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from taskcenter.domain.plans import DependencyTrigger
from taskcenter.domain.runs import JobStatus


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntityRefOut(_Out):
    entityGroup: str
    entityKey: str


class _ItemOut(_Out):
    id: int
    planId: int
    createdAt: str | None
    createdBy: int | None
    updatedAt: str | None
    updatedBy: int | None


class CronItemOut(_ItemOut):
    triggerType: Literal["CRON_JOB"]
    cronDesc: str | None
    cronType: str | None
    timeZone: str | None


class DependencyItemOut(_ItemOut):
    triggerType: Literal["DEPENDENCY"]
    triggerByJobs: list[EntityRefOut]
    triggerOn: DependencyTrigger


class OnceItemOut(_ItemOut):
    triggerType: Literal["ONCE"]


PlanItemOut = CronItemOut | DependencyItemOut | OnceItemOut


class ExecDetailOut(_Out):
    jobClass: str
    jobParams: dict[str, Any]
    retryTimes: int


class PlanOut(_Out):
    """The plan structure (执行计划结构说明)."""

    id: int
    entityGroup: str
    entityKey: str
    enabled: bool
    planItems: list[PlanItemOut]
    execDetail: ExecDetailOut
    title: str | None
    createdAt: str | None
    createdBy: int | None
    updatedAt: str | None
    updatedBy: int | None
    entityCreatedBy: int | None
    entityCreatedByName: str | None
    execFrequency: str | None
    startAt: str | None
    stopAt: str | None
    jobStatus: JobStatus
    costTime: int | None
    contextId: int | None
    nextStartAt: str | None
    path: Any = None
    importType: Any = None
    diskUsage: Any = None
    datasetCount: Any = None
    datasetType: Any = None
    isVirtual: Any = None
    updateMethod: Any = None
    updateMethodSwitchable: Any = None


class ContextOut(_Out):
    """The context structure (任务执行进度信息结构说明)."""

    id: int
    planId: int
    entityGroup: str
    entityKey: str
    jobStatus: JobStatus
    createdAt: str | None
    createdBy: int | None
    scheduledAt: str | None
    scheduleAt: str | None
    startAt: str | None
    stopAt: str | None
    planItemId: int | None
    planItem: PlanItemOut | None
    jobLogId: int
    jobResultId: int
    heartbeatTime: str | None
    execDetail: ExecDetailOut
    title: str | None
    entityCreatedByName: str | None
    costTime: int | None
    path: Any = None
    importType: Any = None
    diskUsage: Any = None
    datasetCount: Any = None


class UserConfigEntry(_Out):
    source: str
    type: str
    value: Any = None


class RoleOut(_Out):
    id: int
    name: str
    description: str


class UserOut(_Out):
    id: int
    name: str | None
    email: str | None
    description: str
    avatar: str
    enable: bool | None
    userType: str
    loginName: str | None
    config: dict[str, UserConfigEntry]
    options: dict[str, Any]
    roles: list[RoleOut]
    organizations: list[Any]


class LogPartOut(_Out):
    subKey: str
    logs: list[str]


class ResultTableOut(_Out):
    schema_: list[Any] = Field(alias="schema")
    data: list[list[Any]]


class ResultPartOut(_Out):
    subKey: str
    result: ResultTableOut


class _Envelope(_Out):
    code: Literal[0]
    msg: str
    version: str


class PlanEnvelope(_Envelope):
    data: PlanOut


class PlanListEnvelope(_Envelope):
    data: list[PlanOut]
    totalHits: int
    offset: int
    totalDiskUsage: Any = None
    totalDatasets: Any = None


class ContextEnvelope(_Envelope):
    data: ContextOut


class ContextListEnvelope(_Envelope):
    data: list[ContextOut]
    totalHits: int
    offset: int


class UsersEnvelope(_Envelope):
    data: list[UserOut]


class LogsEnvelope(_Envelope):
    data: list[LogPartOut]
    done: bool


class ResultsEnvelope(_Envelope):
    data: list[ResultPartOut]
    done: bool


class EmptyEnvelope(_Envelope):
    """A success without data (enable, disable, cancel, delete)."""


class ErrorEnvelope(_Out):
    """Every failure: a non-zero code (docs/api.md), a message for the client, the field at fault."""

    code: int
    msg: str
    version: str
    data: None
    field: str | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in (
        (400, "malformed request or a value that is not allowed"),
        (401, "no token, an invalid one, or an expired one"),
        (403, "not allowed for this user"),
        (404, "no such plan, context or endpoint"),
        (405, "method not allowed on this path"),
        (409, "conflicts with the current state"),
        (413, "the body is larger than 1 MiB"),
        (503, "a dependency is busy or unavailable; retry after Retry-After"),
    )
}


def answers(model: type[BaseModel]) -> dict[str, Any]:
    """Route options that document `model` as the success answer and the error envelope for
    every failure (the route itself returns plain JSON; see the module's docstring)."""
    return {"response_model": None, "responses": {200: {"model": model, "description": "success"}, **ERROR_RESPONSES}}
