"""What the services need from the world, as protocols: the plan store, the plans' DAGs and runs on
Airflow, cancel records, users and the entity catalog; bundled per request as `Ports`.

Adapters implement these (adapters/store, adapters/airflow); the HTTP layer's `deps` wires them to
one request's DB session. Unit tests hand the services doubles of the Airflow side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from taskcenter.domain.catalog import EntityCatalog
from taskcenter.domain.plan_requests import ItemRequest
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan, PlanItem, PlanQuery
from taskcenter.domain.runs import CancelStart, Run
from taskcenter.domain.users import UserInfo


class PlanStore(Protocol):
    """taskcenter's own tables: plans, their items and the dependency graph."""

    def get(self, plan_id: int) -> Plan | None: ...
    def get_by_entity(self, ref: EntityRef) -> Plan | None: ...
    def get_many(self, plan_ids: Sequence[int]) -> list[Plan]: ...
    def items(self, item_ids: Iterable[int]) -> dict[int, PlanItem]: ...
    def page(self, query: PlanQuery) -> list[Plan]: ...
    def totals(self, query: PlanQuery, *, groups: Iterable[str]) -> tuple[int, list[EntityRef]]: ...
    def entity_creators(self, query: PlanQuery, *, by_runs: bool = False) -> list[int]: ...
    def dependency_edges(self) -> dict[EntityRef, list[EntityRef]]: ...
    def dependents(self, ref: EntityRef) -> list[EntityRef]: ...
    def finished_subscribers(self, ref: EntityRef) -> bool: ...
    def lock_plan_graph(self) -> None: ...
    def create(
        self,
        *,
        ref: EntityRef,
        exec_detail: ExecDetail,
        enabled: bool,
        items: Sequence[ItemRequest],
        title: str | None,
        entity_created_by: int | None,
        user_id: int | None,
        now: datetime,
    ) -> Plan | None: ...
    def update(
        self,
        plan_id: int,
        *,
        exec_detail: ExecDetail | None = None,
        enabled: bool | None = None,
        items: Sequence[ItemRequest] | None = None,
        title: str | None = None,
        entity_created_by: int | None = None,
        user_id: int | None,
        now: datetime,
    ) -> Plan: ...
    def add_once_item(self, plan_id: int, *, user_id: int | None, now: datetime) -> PlanItem: ...
    def remove_item(self, item_id: int) -> None: ...
    def delete(self, plan_id: int) -> bool: ...


class PlanDags(Protocol):
    """The plans' DAGs on Airflow: their files, parse and pause state; a run-now's start."""

    def publish(
        self,
        plan: Plan,
        *,
        owner: str | None,
        next_run: datetime | None,
        emit_finished: bool = False,
        row_written: bool = False,
    ) -> None: ...
    def unpublish(self, plan_id: int) -> None: ...
    def paused(self, plan_ids: Iterable[int]) -> Mapping[int, bool]: ...
    def start_run(self, plan: Plan, *, item_id: int, user_name: str | None, parse_timeout: float) -> Run: ...


class Runs(Protocol):
    """The runs of the plans' DAGs: reads, waits, cancel requests and their output."""

    def get(self, run_pk: int) -> Run | None: ...
    def latest(self, plan_ids: Iterable[int]) -> Mapping[int, Run]: ...
    def page(self, *, query: PlanQuery) -> tuple[int, list[Run]]: ...
    def triggering_entities(self, run_pks: list[int]) -> dict[int, list[EntityRef]]: ...
    def heartbeats(self, run_pks: list[int]) -> dict[int, datetime]: ...
    def unfinished(self, plan_id: int) -> list[Run]: ...
    def request_cancel(self, plan_id: int, run_id: str, *, by: str, at: datetime) -> CancelStart | None: ...
    def wait_for_end(self, run_pk: int, *, timeout: float) -> Run | None: ...
    def log_parts(self, run: Run, *, default_sub_key: str) -> list[tuple[str, list[str]]]: ...
    def result_parts(self, run: Run, *, default_sub_key: str) -> list[tuple[str, Any]]: ...


class CancelRecords(Protocol):
    def record(
        self, runs: Sequence[Run], *, plan_id: int, user_id: int | None, now: datetime, stopped: Sequence[int] = ()
    ) -> None: ...
    def cancelled(self, runs: Sequence[Run]) -> set[int]: ...
    def forget_plan(self, plan_id: int) -> None: ...


class UserDirectory(Protocol):
    def get_many(self, user_ids: Sequence[int]) -> dict[int, UserInfo]: ...
    def ids_by_login(self, logins: Sequence[str]) -> dict[str, int]: ...


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, kw_only=True)
class Ports:
    """Everything one request's services use; `commit` ends the request's transaction."""

    store: PlanStore
    catalog: EntityCatalog
    dags: PlanDags
    runs: Runs
    cancels: CancelRecords
    users: UserDirectory
    commit: Callable[[], None]
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """The services' limits: `[taskcenter]` options (adapters/config.py declares them and their defaults)."""

    parse_timeout: float  # seconds a run-now waits for its DAG to be parsed
    sync_timeout: float  # seconds a run-now with `sync` waits for its run to end
    logs_block_timeout: float  # seconds logs/results with block=true wait for the end
    job_classes: Mapping[str, str] = field(default_factory=dict)  # extra jobClass -> entity group
