"""The plan model (执行计划) of the vendor API, as plain immutable values."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EntityGroup(enum.StrEnum):
    NOTEBOOK = "NOTEBOOK"
    PIPELINE = "PIPELINE"
    DATASET = "DATASET"
    SCREENSHOT = "SCREENSHOT"
    APP_EMAIL = "APP_EMAIL"
    APP_REFRESH = "APP_REFRESH"
    DB_BATCH_SYNC = "DB_BATCH_SYNC"


class TriggerType(enum.StrEnum):
    CRON_JOB = "CRON_JOB"
    DEPENDENCY = "DEPENDENCY"
    ONCE = "ONCE"


class DependencyTrigger(enum.StrEnum):
    """When a DEPENDENCY item fires (an extension of the spec, `triggerOn`): default SUCCESSFUL."""

    SUCCESSFUL = "SUCCESSFUL"
    FINISHED = "FINISHED"  # any end: SUCCESSFUL, FAILED or CANCELLED


class CronType(enum.StrEnum):
    MINUTELY = "MINUTELY"
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    CRON = "CRON"


@dataclass(frozen=True, kw_only=True)
class EntityRef:
    """Names an entity, and so the plan of that entity: `(entityGroup, entityKey)`."""

    entity_group: str
    entity_key: str


@dataclass(frozen=True, kw_only=True)
class ExecDetail:
    job_class: str
    job_params: dict[str, Any] = field(default_factory=dict)
    retry_times: int = 0


@dataclass(frozen=True, kw_only=True)
class PlanItem:
    id: int
    plan_id: int
    trigger_type: TriggerType
    cron_desc: str | None = None
    cron_type: str | None = None
    time_zone: str | None = None
    trigger_by_jobs: tuple[EntityRef, ...] = ()
    trigger_on: DependencyTrigger | None = None
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None


@dataclass(frozen=True, kw_only=True)
class Plan:
    id: int
    entity_group: str
    entity_key: str
    enabled: bool
    exec_detail: ExecDetail
    items: tuple[PlanItem, ...]
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    title: str | None = None
    entity_created_by: int | None = None

    @property
    def ref(self) -> EntityRef:
        return EntityRef(entity_group=self.entity_group, entity_key=self.entity_key)

    @property
    def triggers(self) -> tuple[PlanItem, ...]:
        """The stored triggers (CRON_JOB, DEPENDENCY); ONCE items are kept only as run history."""
        return tuple(i for i in self.items if i.trigger_type is not TriggerType.ONCE)

    @property
    def cron_items(self) -> tuple[PlanItem, ...]:
        return tuple(i for i in self.items if i.trigger_type is TriggerType.CRON_JOB)

    @property
    def upstreams(self) -> tuple[EntityRef, ...]:
        seen: list[EntityRef] = []
        for item in self.items:
            if item.trigger_type is TriggerType.DEPENDENCY:
                seen.extend(ref for ref in item.trigger_by_jobs if ref not in seen)
        return tuple(seen)

    def upstream_triggers(self) -> tuple[tuple[EntityRef, DependencyTrigger], ...]:
        """(upstream, when) pairs, each once; FINISHED wins when both are asked for one upstream."""
        found: dict[EntityRef, DependencyTrigger] = {}
        for item in self.items:
            if item.trigger_type is TriggerType.DEPENDENCY:
                for ref in item.trigger_by_jobs:
                    when = item.trigger_on or DependencyTrigger.SUCCESSFUL
                    if found.get(ref) is not DependencyTrigger.FINISHED:
                        found[ref] = when
        return tuple(found.items())


@dataclass(frozen=True, kw_only=True)
class PlanQuery:
    """Filters and page of a plan listing."""

    offset: int = 0
    limit: int = 10
    entity_group: str | None = None
    entity_key: str | None = None
    q: str | None = None
    entity_created_by: tuple[int, ...] = ()
    job_statuses: tuple[str, ...] = ()
    # The plans the caller may read (None: every plan); a list and its totals show no other.
    plan_ids: frozenset[int] | None = None
