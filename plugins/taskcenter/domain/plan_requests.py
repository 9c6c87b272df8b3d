"""What a client asks for when it writes a plan, validated in the domain.

The HTTP layer checks shapes and types (pydantic, unknown fields rejected) and hands over the
typed inputs below (`WritePlan`, `UpdatePlan`), once; this module checks meaning: a known entity
group, a job class that fits it, parsable Quartz expressions in valid zones, well-formed
dependencies. Errors name the field as the client wrote it (`planItems[1].cronDesc`), and nothing
is stored when any check fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from taskcenter.domain.cron import CronError, InvalidZoneError, QuartzCron, parse_zone
from taskcenter.domain.errors import InvalidInputError
from taskcenter.domain.jobs import DEFAULT_JOB_CLASS, default_job_params
from taskcenter.domain.plans import CronType, DependencyTrigger, EntityGroup, EntityRef, ExecDetail, TriggerType

DEFAULT_TIME_ZONE = "Asia/Shanghai"
MAX_RETRY_TIMES = 100


@dataclass(frozen=True, kw_only=True)
class RefInput:
    """An entity as a request names it (`triggerByJobs[]`), before its group is checked."""

    entity_group: str
    entity_key: str


@dataclass(frozen=True, kw_only=True)
class ItemInput:
    """One plan item as the client sent it: JSON types checked by the HTTP layer, meaning here."""

    trigger_type: str
    id: int | None = None
    cron_desc: str | None = None
    cron_type: str | None = None
    time_zone: str | None = None
    trigger_by_jobs: tuple[RefInput, ...] | None = None
    trigger_on: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExecDetailInput:
    job_class: str | None = None
    job_params: Mapping[str, Any] | None = None
    retry_times: int | None = None


@dataclass(frozen=True, kw_only=True)
class WritePlan:
    """`POST /api/schedules`: create or replace the entity's plan, or (only ONCE items) run it now."""

    entity_group: str
    entity_key: str
    items: tuple[ItemInput, ...] | None = None  # None: not sent (an existing plan keeps its items)
    enabled: bool | None = None
    exec_detail: ExecDetailInput | None = None
    sync: bool = False


@dataclass(frozen=True, kw_only=True)
class UpdatePlan:
    """`PUT /api/schedules/{id}`: `items` replaces them all when `replace_items` (null or [] removes all)."""

    replace_items: bool = False
    items: tuple[ItemInput, ...] = ()
    enabled: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ItemRequest:
    """One requested trigger, validated; `id` is the client's (kept when it names an existing item)."""

    id: int | None = None
    trigger_type: TriggerType
    cron_desc: str | None = None
    cron_type: str | None = None
    time_zone: str | None = None
    trigger_by_jobs: tuple[EntityRef, ...] = ()
    trigger_on: DependencyTrigger | None = None


def entity_group(value: str, *, field_name: str = "entityGroup") -> EntityGroup:
    try:
        return EntityGroup(value)
    except ValueError:
        allowed = ", ".join(g.value for g in EntityGroup)
        raise InvalidInputError(
            f"{field_name}: unknown entity group {value!r} (one of {allowed})", field=field_name
        ) from None


def entity_key(value: str, *, field_name: str = "entityKey") -> str:
    if not value or not value.strip() or len(value) > 128:
        raise InvalidInputError(f"{field_name}: must be a non-empty string of at most 128 characters", field=field_name)
    return value


def validate_exec_detail(
    group: EntityGroup, key: str, detail: ExecDetailInput, *, allowed_job_classes: Mapping[str, str] | None = None
) -> ExecDetail:
    """`execDetail`: the group's job class (or one registered for it), its jobParams, retryTimes >= 0."""
    job_class = detail.job_class
    expected = DEFAULT_JOB_CLASS[group]
    registered = dict(allowed_job_classes or {})
    if job_class is None:
        job_class = expected
    if job_class != expected and registered.get(job_class) not in (group.value, "*"):
        raise InvalidInputError(
            f"execDetail.jobClass: {job_class!r} does not run {group.value} plans (use {expected!r})",
            field="execDetail.jobClass",
        )
    defaults = default_job_params(group, key)
    params = detail.job_params
    if params is None:
        params = defaults
    for name, value in defaults.items():
        if name not in params:
            raise InvalidInputError(
                f"execDetail.jobParams.{name}: required for {group.value} plans", field=f"execDetail.jobParams.{name}"
            )
        if str(params[name]) != str(value):
            raise InvalidInputError(
                f"execDetail.jobParams.{name}: must name the plan's entity ({value!r}), got {params[name]!r}",
                field=f"execDetail.jobParams.{name}",
            )
    retry_times = 0 if detail.retry_times is None else detail.retry_times
    if not 0 <= retry_times <= MAX_RETRY_TIMES:
        raise InvalidInputError(
            f"execDetail.retryTimes: must be between 0 and {MAX_RETRY_TIMES}", field="execDetail.retryTimes"
        )
    return ExecDetail(job_class=job_class, job_params=dict(params), retry_times=retry_times)


def validate_item(raw: ItemInput, *, index: int, owner: EntityRef | None, now: datetime) -> ItemRequest:
    where = f"planItems[{index}]"
    try:
        trigger = TriggerType(raw.trigger_type)
    except ValueError:
        allowed = ", ".join(t.value for t in TriggerType)
        raise InvalidInputError(
            f"{where}.triggerType: must be one of {allowed}", field=f"{where}.triggerType"
        ) from None
    item_id = raw.id
    if trigger is TriggerType.CRON_JOB:
        return _cron_item(raw, where=where, item_id=item_id, now=now)
    for name, value in (("cronDesc", raw.cron_desc), ("cronType", raw.cron_type), ("timeZone", raw.time_zone)):
        if value is not None:
            raise InvalidInputError(f"{where}.{name}: only CRON_JOB items have {name}", field=f"{where}.{name}")
    if trigger is not TriggerType.DEPENDENCY and raw.trigger_on is not None:
        raise InvalidInputError(f"{where}.triggerOn: only DEPENDENCY items have triggerOn", field=f"{where}.triggerOn")
    if trigger is TriggerType.ONCE:
        if raw.trigger_by_jobs:
            raise InvalidInputError(
                f"{where}.triggerByJobs: only DEPENDENCY items have triggerByJobs", field=f"{where}.triggerByJobs"
            )
        return ItemRequest(id=item_id, trigger_type=trigger)
    upstreams = _upstreams(raw.trigger_by_jobs or (), where=where, owner=owner)
    when = DependencyTrigger.SUCCESSFUL.value if raw.trigger_on is None else raw.trigger_on
    if when not in DependencyTrigger.__members__:
        allowed = ", ".join(t.value for t in DependencyTrigger)
        raise InvalidInputError(f"{where}.triggerOn: must be one of {allowed}", field=f"{where}.triggerOn")
    return ItemRequest(
        id=item_id, trigger_type=trigger, trigger_by_jobs=tuple(upstreams), trigger_on=DependencyTrigger(when)
    )


def _upstreams(refs: Sequence[RefInput], *, where: str, owner: EntityRef | None) -> list[EntityRef]:
    """A DEPENDENCY item's upstream entities, validated, in order, without repeats."""
    if not refs:
        raise InvalidInputError(
            f"{where}.triggerByJobs: a DEPENDENCY item needs at least one upstream", field=f"{where}.triggerByJobs"
        )
    upstreams: list[EntityRef] = []
    for position, ref in enumerate(refs):
        ref_field = f"{where}.triggerByJobs[{position}]"
        upstream = EntityRef(
            entity_group=entity_group(ref.entity_group, field_name=f"{ref_field}.entityGroup").value,
            entity_key=entity_key(ref.entity_key, field_name=f"{ref_field}.entityKey"),
        )
        if owner is not None and upstream == owner:
            raise InvalidInputError(f"{ref_field}: a plan cannot depend on itself", field=ref_field)
        if upstream not in upstreams:
            upstreams.append(upstream)
    return upstreams


def _cron_item(raw: ItemInput, *, where: str, item_id: int | None, now: datetime) -> ItemRequest:
    if raw.trigger_by_jobs:
        raise InvalidInputError(
            f"{where}.triggerByJobs: only DEPENDENCY items have triggerByJobs", field=f"{where}.triggerByJobs"
        )
    if raw.trigger_on is not None:
        raise InvalidInputError(f"{where}.triggerOn: only DEPENDENCY items have triggerOn", field=f"{where}.triggerOn")
    cron_desc = raw.cron_desc
    if not cron_desc or not cron_desc.strip():
        raise InvalidInputError(
            f"{where}.cronDesc: a CRON_JOB item needs a Quartz cron expression", field=f"{where}.cronDesc"
        )
    time_zone = DEFAULT_TIME_ZONE if raw.time_zone is None else raw.time_zone  # "" is not a zone: refused below
    try:
        zone = parse_zone(time_zone)
    except InvalidZoneError as exc:
        raise InvalidInputError(f"{where}.timeZone: {exc}", field=f"{where}.timeZone") from None
    try:
        cron = QuartzCron.parse(cron_desc)
        # Parsable is not enough: Quartz's own search never ends for a few expressions (0W).
        fires = cron.next_fire_time(now, zone)
    except CronError as exc:
        raise InvalidInputError(
            f"{where}.cronDesc: invalid Quartz expression {cron_desc!r}: {exc}", field=f"{where}.cronDesc"
        ) from None
    if fires is None:
        # Quartz's scheduleJob refuses such a trigger too ("will never fire").
        raise InvalidInputError(
            f"{where}.cronDesc: {cron_desc!r} never fires after now in {time_zone} (a past year, or a date that does "
            "not exist)",
            field=f"{where}.cronDesc",
        )
    cron_type = CronType.CRON.value if raw.cron_type is None else raw.cron_type
    if cron_type not in CronType.__members__:
        allowed = ", ".join(t.value for t in CronType)
        raise InvalidInputError(f"{where}.cronType: must be one of {allowed}", field=f"{where}.cronType")
    return ItemRequest(
        id=item_id, trigger_type=TriggerType.CRON_JOB, cron_desc=cron_desc, cron_type=cron_type, time_zone=time_zone
    )


def validate_items(
    raw_items: Sequence[ItemInput] | None, *, owner: EntityRef | None, now: datetime, allow_once: bool
) -> tuple[ItemRequest, ...]:
    items = tuple(validate_item(raw, index=i, owner=owner, now=now) for i, raw in enumerate(raw_items or ()))
    once = [i for i, item in enumerate(items) if item.trigger_type is TriggerType.ONCE]
    if once and not allow_once:
        raise InvalidInputError(
            f"planItems[{once[0]}].triggerType: ONCE (run now) is a POST /api/schedules request, not a stored trigger",
            field=f"planItems[{once[0]}].triggerType",
        )
    if once and len(once) != len(items):
        raise InvalidInputError(
            f"planItems[{once[0]}].triggerType: a run-now request (ONCE) cannot also change the plan's other triggers",
            field=f"planItems[{once[0]}].triggerType",
        )
    if len(once) > 1:
        raise InvalidInputError("planItems: one ONCE item starts one run; send one", field="planItems[1]")
    ids = [item.id for item in items if item.id is not None]
    if len(ids) != len(set(ids)):
        raise InvalidInputError("planItems: the same item id appears twice", field="planItems")
    return items
