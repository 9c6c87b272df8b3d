"""Plan use cases (执行计划): create/upsert, run now, read, list, update, enable, disable, delete, users.

Services talk to ports (store, catalog, the plans' DAGs on Airflow, users) and raise domain
errors; the HTTP layer maps those to the envelope. Every check happens before the first write, so a
rejected request stores nothing; a run-now whose run cannot be started takes back what it stored.

A plan's `enabled` follows its DAG's pause state once Airflow knows the DAG: pausing or unpausing
the plan's DAG in the Airflow UI disables or enables the plan, and the next write records it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from taskcenter.domain.catalog import DATASET_COVERING_GROUPS, Entity, EntityCatalog, covered_datasets
from taskcenter.domain.dependencies import find_cycle
from taskcenter.domain.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError, TaskCenterError
from taskcenter.domain.jobs import default_exec_detail
from taskcenter.domain.plan_requests import (
    ItemRequest,
    UpdatePlan,
    WritePlan,
    entity_group,
    entity_key,
    validate_exec_detail,
    validate_items,
)
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan, PlanItem, PlanQuery, TriggerType
from taskcenter.domain.runs import JobStatus, cost_seconds, job_status
from taskcenter.domain.schedule import CronEntry, MultiZoneSchedule
from taskcenter.domain.users import UserInfo

MAX_PAGE_SIZE = 1000


class PlanStore(Protocol):
    def get(self, plan_id: int) -> Plan | None: ...
    def get_by_entity(self, ref: EntityRef) -> Plan | None: ...
    def get_many(self, plan_ids: Sequence[int]) -> list[Plan]: ...
    def page(self, query: PlanQuery) -> list[Plan]: ...
    def totals(self, query: PlanQuery, *, groups: Iterable[str]) -> tuple[int, list[EntityRef]]: ...
    def entity_creators(self, query: PlanQuery) -> list[int]: ...
    def dependency_edges(self) -> dict[EntityRef, list[EntityRef]]: ...
    def finished_subscribers(self, ref: EntityRef) -> bool: ...
    def lock_plan_graph(self) -> None: ...
    def create(self, **kwargs: Any) -> Plan | None: ...
    def update(self, plan_id: int, **kwargs: Any) -> Plan: ...
    def add_once_item(self, plan_id: int, *, user_id: int | None, now: datetime) -> PlanItem: ...
    def remove_item(self, item_id: int) -> None: ...
    def delete(self, plan_id: int) -> bool: ...


class RunLike(Protocol):
    id: int
    run_id: str
    state: str | None
    start_date: datetime | None
    end_date: datetime | None


class PlanDags(Protocol):
    def publish(
        self, plan: Plan, *, owner: str | None, next_run: datetime | None, emit_finished: bool = False, row_written: bool = False
    ) -> None: ...
    def unpublish(self, plan_id: int) -> None: ...
    def paused(self, plan_ids: Iterable[int]) -> Mapping[int, bool]: ...
    def latest_runs(self, plan_ids: Sequence[int]) -> Mapping[int, RunLike]: ...
    def start_run(self, plan: Plan, *, item_id: int, user_name: str | None, parse_timeout: float) -> RunLike: ...
    def wait_for_end(self, run_pk: int, *, timeout: float) -> RunLike | None: ...


class CancelRecords(Protocol):
    def cancelled(self, runs: Sequence[Any] | None = None) -> set[int]: ...
    def forget_plan(self, plan_id: int) -> None: ...


class UserDirectory(Protocol):
    def get_many(self, user_ids: Sequence[int]) -> dict[int, UserInfo]: ...


@dataclass(frozen=True, kw_only=True)
class Caller:
    user_id: int | None
    name: str


@dataclass(frozen=True, kw_only=True)
class PlanSettings:
    parse_timeout: float = 30.0
    sync_timeout: float = 3600.0
    job_classes: Mapping[str, str] = field(default_factory=dict)  # extra jobClass -> entity group


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    id: int
    status: JobStatus
    start_at: datetime | None
    stop_at: datetime | None
    cost_time: int | None


@dataclass(frozen=True, kw_only=True)
class PlanView:
    """A plan with everything its wire form shows, from the store, the catalog, users and Airflow."""

    plan: Plan
    items: tuple[PlanItem, ...]
    entity: Entity | None
    entity_created_by_name: str | None
    next_start_at: datetime | None
    latest_run: RunSummary | None
    context_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class PlanListing:
    total: int
    views: tuple[PlanView, ...]
    total_disk_usage: int
    total_datasets: int


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def entity_creator_names(entities: Iterable[Entity | None], users: UserDirectory) -> dict[tuple[str, str], str | None]:
    """Creator name of each entity: the catalog's, else the user's name (one user lookup for all)."""
    known = [e for e in entities if e is not None]
    missing = sorted({e.created_by for e in known if e.created_by is not None and not e.created_by_name})
    found = users.get_many(missing) if missing else {}
    return {
        e.key_ref: e.created_by_name or (found[e.created_by].name if e.created_by in found else None) for e in known
    }


def users_in_order(user_ids: Sequence[int], users: UserDirectory) -> list[UserInfo]:
    """These users, in this order (one lookup); an id that names no user any more is left out."""
    found = users.get_many(user_ids) if user_ids else {}
    return [found[i] for i in user_ids if i in found]


def run_summary(run: RunLike, *, cancelled: bool, now: datetime) -> RunSummary:
    return RunSummary(
        id=run.id,
        status=job_status(run.state, cancelled=cancelled),
        start_at=run.start_date,
        stop_at=run.end_date,
        cost_time=cost_seconds(run.start_date, run.end_date, now=now),
    )


def check_page(query: PlanQuery) -> None:
    """`offset` >= 0 and `limit` within 1..MAX_PAGE_SIZE, for every listing."""
    if query.offset < 0:
        raise InvalidInputError("offset: must be 0 or more", field="offset")
    if not 1 <= query.limit <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"limit: must be between 1 and {MAX_PAGE_SIZE}", field="limit")


def next_fire(plan: Plan, *, now: datetime) -> datetime | None:
    """The plan's next cron fire time (what its timetable schedules), or None."""
    if not plan.enabled or not plan.cron_items:
        return None
    entries = [CronEntry(item_id=i.id, expression=i.cron_desc or "", zone=i.time_zone or "") for i in plan.cron_items]
    fire = MultiZoneSchedule(entries).next_fire(after=now)
    return None if fire is None else fire.at


class PlanService:
    def __init__(
        self,
        *,
        store: PlanStore,
        catalog: EntityCatalog,
        dags: PlanDags,
        users: UserDirectory,
        commit: Callable[[], None],
        settings: PlanSettings | None = None,
        cancels: CancelRecords | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._cancels = cancels
        self._store = store
        self._catalog = catalog
        self._dags = dags
        self._users = users
        self._commit = commit
        self._settings = settings or PlanSettings()
        self._clock = clock

    # -- reads ---------------------------------------------------------------------------------

    def get_plan(self, plan_id: int) -> PlanView:
        return self._view(self._existing(plan_id))

    def list_plans(self, query: PlanQuery) -> PlanListing:
        """One page of the matching plans; the totals cover every match, each dataset counted once.

        Filters, job status included, and the count run in SQL; only the page's plans are read in
        full. The dataset totals read the entities of the matching dataset and app plans (their
        datasets and sizes are the catalog's, not the database's).
        """
        check_page(query)
        total, refs = self._store.totals(query, groups=DATASET_COVERING_GROUPS)
        page = self._store.page(query)
        datasets = covered_datasets(self._catalog, (self._catalog.get(r.entity_group, r.entity_key) for r in refs))
        return PlanListing(
            total=total,
            views=self._views(page),
            total_disk_usage=sum(d.disk_usage or 0 for d in datasets),
            total_datasets=len(datasets),
        )

    def users(self, query: PlanQuery) -> list[UserInfo]:
        """The creators of the matching plans' entities, each once, in the order of their first plan.

        The creator recorded on each plan (copied from the catalog with every write of the plan),
        the same value `entityCreatedByList` filters on.
        """
        return users_in_order(self._store.entity_creators(query), self._users)

    # -- writes --------------------------------------------------------------------------------

    def write_plan(self, command: WritePlan, caller: Caller) -> PlanView:
        """`POST /api/schedules`: create or replace the entity's plan, or run it now (ONCE)."""
        try:
            return self._write_plan(command, caller)
        except NotFoundError:
            # The entity's plan was deleted while this request changed it; sent again, the request
            # creates a new plan. (It names no id, so "not found" would be the wrong answer.)
            raise ConflictError(
                "the plan was deleted by another request at the same time; retry to create it anew"
            ) from None

    def _write_plan(self, command: WritePlan, caller: Caller) -> PlanView:
        now = self._clock()
        group = entity_group(command.entity_group)
        key = entity_key(command.entity_key)
        ref = EntityRef(entity_group=group.value, entity_key=key)
        entity = self._entity(ref)
        detail = (
            validate_exec_detail(group, key, command.exec_detail, allowed_job_classes=self._settings.job_classes)
            if command.exec_detail is not None
            else None
        )
        items = validate_items(command.items, owner=ref, now=now, allow_once=True) if command.items is not None else None
        enabled = command.enabled
        stored = self._store.get_by_entity(ref)
        existing = self._effective(stored)
        if items and all(i.trigger_type is TriggerType.ONCE for i in items):
            return self._run_now(ref, entity, existing, detail, enabled, caller, now, sync=command.sync)
        if items is not None:
            self._check_items_belong(existing, items)
            self._check_dependencies(ref, items)
        plan: Plan | None = None
        if existing is None:
            plan = self._store.create(
                ref=ref,
                exec_detail=detail or default_exec_detail(group, key),
                enabled=True if enabled is None else enabled,
                items=items or (),
                title=entity.title,
                entity_created_by=entity.created_by,
                user_id=caller.user_id,
                now=now,
            )
            if plan is None:  # a concurrent request created it first: replace it as an update
                stored = self._store.get_by_entity(ref)
                existing = self._effective(stored)
                if existing is None:
                    raise NotFoundError("created and deleted by other requests meanwhile")
                if items is not None:
                    self._check_items_belong(existing, items)
        if existing is not None:
            plan = self._store.update(
                existing.id,
                exec_detail=detail,
                enabled=self._enabled_to_store(enabled, stored=stored, effective=existing),
                items=items,
                title=entity.title,
                entity_created_by=entity.created_by,
                user_id=caller.user_id,
                now=now,
            )
        assert plan is not None
        self._publish(plan, now=now, previous_upstreams=existing.upstreams if existing is not None else (), row_written=True)
        self._commit()
        return self._view(plan)

    def update_plan(self, plan_id: int, command: UpdatePlan, caller: Caller) -> PlanView:
        """`PUT /api/schedules/{id}`: replace planItems as a whole (empty or null removes all), set enabled."""
        now = self._clock()
        stored = self._existing(plan_id)
        plan = self._effective(stored)
        assert plan is not None
        items: tuple[ItemRequest, ...] | None = None
        if command.replace_items:
            items = validate_items(command.items, owner=plan.ref, now=now, allow_once=False)
            self._check_items_belong(plan, items)
            self._check_dependencies(plan.ref, items)
        previous = plan.upstreams
        updated = self._store.update(
            plan.id,
            enabled=self._enabled_to_store(command.enabled, stored=stored, effective=plan),
            items=items,
            user_id=caller.user_id,
            now=now,
        )
        self._publish(updated, now=now, previous_upstreams=previous, row_written=True)
        self._commit()
        return self._view(updated)

    def set_enabled(self, plan_id: int, *, enabled: bool, caller: Caller) -> None:
        """Enable or disable: the DAG is (un)paused and its file rewritten; no run for ticks missed while off."""
        now = self._clock()
        plan = self._store.update(self._existing(plan_id).id, enabled=enabled, user_id=caller.user_id, now=now)
        self._publish_one(plan, now=now, row_written=True)
        self._commit()

    def delete_plan(self, plan_id: int) -> None:
        plan = self._existing(plan_id)
        dependents = [
            f"{ref.entity_group} {ref.entity_key}"
            for ref, upstreams in self._store.dependency_edges().items()
            if plan.ref in upstreams and ref != plan.ref
        ]
        if dependents:
            raise ConflictError(
                f"plan {plan_id} is an upstream of {', '.join(dependents)}; remove those DEPENDENCY items first"
            )
        if not self._store.delete(plan.id):  # a concurrent request deleted it first
            raise NotFoundError(f"scheduleId: no plan with id {plan_id}", field="scheduleId")
        self._dags.unpublish(plan.id)
        if self._cancels is not None:
            self._cancels.forget_plan(plan.id)
        for ref in plan.upstreams:
            upstream = self._store.get_by_entity(ref)
            if upstream is not None:
                self._publish_one(upstream, now=self._clock())
        self._commit()

    # -- helpers -------------------------------------------------------------------------------

    def _run_now(
        self,
        ref: EntityRef,
        entity: Entity,
        existing: Plan | None,
        detail: ExecDetail | None,
        enabled: bool | None,
        caller: Caller,
        now: datetime,
        *,
        sync: bool,
    ) -> PlanView:
        """Start a run at once; if Airflow cannot start it, take back what this request stored."""
        created = False
        before = existing
        if existing is None:
            plan = self._store.create(
                ref=ref,
                exec_detail=detail or default_exec_detail(entity_group(ref.entity_group), ref.entity_key),
                enabled=True if enabled is None else enabled,
                items=(),
                title=entity.title,
                entity_created_by=entity.created_by,
                user_id=caller.user_id,
                now=now,
            )
            created = plan is not None
            existing = plan or self._effective(self._store.get_by_entity(ref))
            if existing is None:
                raise NotFoundError("created and deleted by other requests meanwhile")
            before = None if created else existing
        if not created and (detail is not None or enabled is not None):
            # Re-read as the DAG's pause state says: the store alone would forget a pause in the UI.
            existing = self._effective(
                self._store.update(existing.id, exec_detail=detail, enabled=enabled, user_id=caller.user_id, now=now)
            )
            assert existing is not None
        if not existing.enabled:
            raise ConflictError("plan is disabled; enable it first", code=ErrorCode.PLAN_DISABLED)
        once = self._store.add_once_item(existing.id, user_id=caller.user_id, now=now)
        self._publish(existing, now=now)
        self._commit()  # the dag-processor must see the file's parse request before the run can start
        try:
            run = self._dags.start_run(existing, item_id=once.id, user_name=caller.name, parse_timeout=self._settings.parse_timeout)
        except TaskCenterError:
            self._take_back_run_now(existing, once=once, created=created, before=before)
            raise
        self._commit()
        shown: RunLike | None = run
        if sync:
            shown = self._dags.wait_for_end(run.id, timeout=self._settings.sync_timeout)
        view = self._view(existing)
        # The answer describes the run it started (ended, with `sync`), not the plan's newest run:
        # a cron tick may have started another meanwhile. A sync that timed out shows the newest.
        latest = view.latest_run if shown is None else self._summary(existing.id, shown)
        return dataclasses.replace(view, items=(once,), context_id=run.id, latest_run=latest)

    def _take_back_run_now(self, plan: Plan, *, once: PlanItem, created: bool, before: Plan | None) -> None:
        """Undo a failed run-now: its ONCE item, the plan it created, or the changes it made."""
        now = self._clock()
        self._store.remove_item(once.id)
        if created:
            self._store.delete(plan.id)
            self._dags.unpublish(plan.id)
        elif before is not None and (before.exec_detail != plan.exec_detail or before.enabled != plan.enabled):
            # As it was, down to who changed it last and when.
            restored = self._store.update(
                plan.id, exec_detail=before.exec_detail, enabled=before.enabled, user_id=before.updated_by, now=before.updated_at
            )
            self._publish_one(restored, now=now, row_written=True)
        self._commit()

    def _effective(self, plan: Plan | None) -> Plan | None:
        """The plan with `enabled` as its DAG's pause state says (a pause in the Airflow UI disables it)."""
        if plan is None:
            return None
        return self._effective_many([plan])[0]

    def _effective_many(self, plans: Sequence[Plan]) -> list[Plan]:
        paused = self._dags.paused([p.id for p in plans]) if plans else {}
        return [
            dataclasses.replace(p, enabled=not paused[p.id]) if p.id in paused and paused[p.id] == p.enabled else p
            for p in plans
        ]

    @staticmethod
    def _enabled_to_store(requested: bool | None, *, stored: Plan | None, effective: Plan | None) -> bool | None:
        """What a write stores as `enabled`: the request's, else the DAG's state when the UI changed it."""
        if requested is not None:
            return requested
        if stored is not None and effective is not None and stored.enabled != effective.enabled:
            return effective.enabled
        return None

    def _publish(
        self, plan: Plan, *, now: datetime, previous_upstreams: Sequence[EntityRef] = (), row_written: bool = False
    ) -> None:
        """Publish the plan (`row_written`: this request wrote its row) and the upstreams it changed."""
        self._publish_one(plan, now=now, row_written=row_written)
        # An upstream emits its "finished" event only while some plan waits for it: refresh the
        # upstreams this write added or removed (unchanged files are not rewritten).
        for ref in {*plan.upstreams, *previous_upstreams}:
            upstream = self._effective(self._store.get_by_entity(ref))
            if upstream is not None:
                self._publish_one(upstream, now=now)

    def _publish_one(self, plan: Plan, *, now: datetime, row_written: bool = False) -> None:
        owner = None
        if plan.created_by is not None:
            user = self._users.get_many([plan.created_by]).get(plan.created_by)
            owner = user.login_name if user else None
        self._dags.publish(
            plan,
            owner=owner,
            next_run=next_fire(plan, now=now),
            emit_finished=self._store.finished_subscribers(plan.ref),
            row_written=row_written,
        )

    def _existing(self, plan_id: int) -> Plan:
        plan = self._store.get(plan_id)
        if plan is None:
            raise NotFoundError(f"scheduleId: no plan with id {plan_id}", field="scheduleId")
        return plan

    def _entity(self, ref: EntityRef) -> Entity:
        entity = self._catalog.get(ref.entity_group, ref.entity_key)
        if entity is None:
            raise InvalidInputError(
                f"entityKey: no {ref.entity_group} entity with key {ref.entity_key!r} in the entity catalog",
                field="entityKey",
            )
        return entity

    def _check_items_belong(self, plan: Plan | None, items: Sequence[ItemRequest]) -> None:
        """An item sent with an `id` must be one of the plan's triggers (a new plan has none)."""
        own = {item.id for item in plan.triggers} if plan is not None else set()
        for index, item in enumerate(items):
            if item.id is not None and item.id not in own:
                owner = f"plan {plan.id} has" if plan is not None else "a new plan has"
                raise InvalidInputError(
                    f"planItems[{index}].id: {owner} no trigger with id {item.id} (omit the id for a new trigger)",
                    field=f"planItems[{index}].id",
                )

    def _check_dependencies(self, ref: EntityRef, items: Sequence[ItemRequest]) -> None:
        upstreams: list[EntityRef] = []
        for index, item in enumerate(items):
            for position, upstream in enumerate(item.trigger_by_jobs):
                # An upstream is an entity: its plan's runs, or a hand-written DAG declaring the
                # entity's asset as an outlet, signal that it finished.
                known = self._store.get_by_entity(upstream) is not None
                if not known and self._catalog.get(upstream.entity_group, upstream.entity_key) is None:
                    field_name = f"planItems[{index}].triggerByJobs[{position}]"
                    raise InvalidInputError(
                        f"{field_name}: unknown upstream {upstream.entity_group} {upstream.entity_key!r} "
                        "(neither a plan nor an entity of the catalog)",
                        field=field_name,
                    )
                upstreams.append(upstream)
        if not upstreams:
            return  # removing edges cannot make a cycle
        # Concurrent writers of dependencies take turns from here to their commit, so the graph
        # read below includes every edge another request stored.
        self._store.lock_plan_graph()
        edges = self._store.dependency_edges()
        edges[ref] = upstreams
        cycle = find_cycle(edges)
        if cycle:
            path = " -> ".join(f"{r.entity_group} {r.entity_key}" for r in cycle)
            raise InvalidInputError(f"planItems: dependency cycle {path}", field="planItems")

    def _cancelled(self, runs: Mapping[int, Any]) -> set[int]:
        if self._cancels is None or not runs:
            return set()
        return self._cancels.cancelled(list(runs.values()))

    def _summary(self, plan_id: int, run: RunLike) -> RunSummary:
        return run_summary(run, cancelled=run.id in self._cancelled({plan_id: run}), now=self._clock())

    def _view(self, plan: Plan) -> PlanView:
        return self._views((plan,))[0]

    def _views(self, plans: Sequence[Plan]) -> tuple[PlanView, ...]:
        now = self._clock()
        plans = self._effective_many(plans)
        runs = self._dags.latest_runs([p.id for p in plans])
        cancelled = self._cancelled(runs)
        entities = {p.id: self._catalog.get(p.entity_group, p.entity_key) for p in plans}
        names = entity_creator_names(entities.values(), self._users)
        views = []
        for plan in plans:
            entity = entities[plan.id]
            name = None if entity is None else names.get(entity.key_ref)
            run = runs.get(plan.id)
            summary = None if run is None else run_summary(run, cancelled=run.id in cancelled, now=now)
            views.append(
                PlanView(
                    plan=plan,
                    items=plan.triggers,
                    entity=entity,
                    entity_created_by_name=name,
                    next_start_at=next_fire(plan, now=now),
                    latest_run=summary,
                )
            )
        return tuple(views)
