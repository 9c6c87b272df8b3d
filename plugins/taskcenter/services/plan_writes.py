"""Plan writes (执行计划): create or replace an entity's plan, update, enable, disable, delete.

Every check happens before the first write, so a rejected request stores nothing. A
`POST /api/schedules` whose items are all ONCE runs the plan now instead (services/run_now.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from taskcenter.domain.catalog import Entity
from taskcenter.domain.dependencies import find_cycle
from taskcenter.domain.errors import ConflictError, InvalidInputError, NotFoundError
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
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan, TriggerType
from taskcenter.domain.users import Caller
from taskcenter.services.plan_views import PlanView, PlanViews, existing_plan, no_plan
from taskcenter.services.ports import Ports, ServiceSettings
from taskcenter.services.publishing import Publisher, enabled_to_store
from taskcenter.services.run_now import RunNow, RunNowRequest


@dataclass(frozen=True, kw_only=True)
class _Write:
    """A validated `POST /api/schedules`, with the plan it changes as stored and as Airflow sees it."""

    ref: EntityRef
    entity: Entity
    detail: ExecDetail | None
    items: tuple[ItemRequest, ...] | None
    enabled: bool | None
    stored: Plan | None
    existing: Plan | None
    now: datetime


class PlanWrites:
    def __init__(self, ports: Ports, *, settings: ServiceSettings) -> None:
        self._ports = ports
        self._settings = settings
        self._publisher = Publisher(ports)
        self._views = PlanViews(ports)

    def write_plan(self, command: WritePlan, caller: Caller) -> PlanView:
        """`POST /api/schedules`: create or replace the entity's plan, or run it now (ONCE)."""
        try:
            write = self._validated(command)
            if write.items and all(i.trigger_type is TriggerType.ONCE for i in write.items):
                request = RunNowRequest(
                    ref=write.ref,
                    entity=write.entity,
                    existing=write.existing,
                    detail=write.detail,
                    enabled=write.enabled,
                    now=write.now,
                    sync=command.sync,
                )
                return RunNow(self._ports, settings=self._settings).run_now(request, caller)
            return self._store_plan(write, caller)
        except NotFoundError:
            # The entity's plan was deleted while this request changed it; sent again, the request
            # creates a new plan. (It names no id, so "not found" would be the wrong answer.)
            raise ConflictError(
                "the plan was deleted by another request at the same time; retry to create it anew"
            ) from None

    def update_plan(self, plan_id: int, command: UpdatePlan, caller: Caller) -> PlanView:
        """`PUT /api/schedules/{id}`: replace planItems as a whole (empty or null removes all), set enabled."""
        now = self._ports.clock()
        stored = existing_plan(self._ports, plan_id)
        plan = self._publisher.effective(stored)
        assert plan is not None
        items: tuple[ItemRequest, ...] | None = None
        if command.replace_items:
            items = validate_items(command.items, owner=plan.ref, now=now, allow_once=False)
            self._check_items_belong(plan, items)
            self._check_dependencies(plan.ref, items)
        updated = self._ports.store.update(
            plan.id,
            enabled=enabled_to_store(command.enabled, stored=stored, effective=plan),
            items=items,
            user_id=caller.user_id,
            now=now,
        )
        return self._publish_and_view(updated, now=now, previous_upstreams=plan.upstreams)

    def set_enabled(self, plan_id: int, *, enabled: bool, caller: Caller) -> None:
        """Enable or disable: the DAG is (un)paused and its file rewritten; no run for ticks missed while off."""
        now = self._ports.clock()
        plan_id = existing_plan(self._ports, plan_id).id
        plan = self._ports.store.update(plan_id, enabled=enabled, user_id=caller.user_id, now=now)
        self._publisher.publish_one(plan, now=now, row_written=True)
        self._ports.commit()

    def delete_plan(self, plan_id: int) -> None:
        plan = existing_plan(self._ports, plan_id)
        dependents = [ref for ref in self._ports.store.dependents(plan.ref) if ref != plan.ref]
        if dependents:
            names = ", ".join(f"{ref.entity_group} {ref.entity_key}" for ref in dependents)
            raise ConflictError(f"plan {plan_id} is an upstream of {names}; remove those DEPENDENCY items first")
        if not self._ports.store.delete(plan.id):  # a concurrent request deleted it first
            raise no_plan(plan_id)
        self._ports.dags.unpublish(plan.id)
        self._ports.cancels.forget_plan(plan.id)
        now = self._ports.clock()
        for ref in plan.upstreams:
            upstream = self._ports.store.get_by_entity(ref)
            if upstream is not None:
                self._publisher.publish_one(upstream, now=now)
        self._ports.commit()

    # -- helpers -------------------------------------------------------------------------------

    def _validated(self, command: WritePlan) -> _Write:
        now = self._ports.clock()
        group = entity_group(command.entity_group)
        key = entity_key(command.entity_key)
        ref = EntityRef(entity_group=group.value, entity_key=key)
        entity = self._entity(ref)
        detail = None
        if command.exec_detail is not None:
            allowed = self._settings.job_classes
            detail = validate_exec_detail(group, key, command.exec_detail, allowed_job_classes=allowed)
        items = None
        if command.items is not None:
            items = validate_items(command.items, owner=ref, now=now, allow_once=True)
        stored = self._ports.store.get_by_entity(ref)
        return _Write(
            ref=ref,
            entity=entity,
            detail=detail,
            items=items,
            enabled=command.enabled,
            stored=stored,
            existing=self._publisher.effective(stored),
            now=now,
        )

    def _store_plan(self, write: _Write, caller: Caller) -> PlanView:
        """Create the entity's plan, or replace the existing one's fields the request names."""
        stored, existing, items = write.stored, write.existing, write.items
        if items is not None:
            self._check_items_belong(existing, items)
            self._check_dependencies(write.ref, items)
        if existing is None:
            created = self._ports.store.create(
                ref=write.ref,
                exec_detail=write.detail
                or default_exec_detail(entity_group(write.ref.entity_group), write.ref.entity_key),
                enabled=True if write.enabled is None else write.enabled,
                items=items or (),
                title=write.entity.title,
                entity_created_by=write.entity.created_by,
                user_id=caller.user_id,
                now=write.now,
            )
            if created is not None:
                return self._publish_and_view(created, now=write.now)
            # A concurrent request created it first: replace it as an update.
            stored = self._ports.store.get_by_entity(write.ref)
            existing = self._publisher.effective(stored)
            if existing is None:
                raise NotFoundError("created and deleted by other requests meanwhile")
            if items is not None:
                self._check_items_belong(existing, items)
        plan = self._ports.store.update(
            existing.id,
            exec_detail=write.detail,
            enabled=enabled_to_store(write.enabled, stored=stored, effective=existing),
            items=items,
            title=write.entity.title,
            entity_created_by=write.entity.created_by,
            user_id=caller.user_id,
            now=write.now,
        )
        return self._publish_and_view(plan, now=write.now, previous_upstreams=existing.upstreams)

    def _publish_and_view(self, plan: Plan, *, now: datetime, previous_upstreams: Sequence[EntityRef] = ()) -> PlanView:
        """Publish what this request wrote, commit, answer. The plan's DAG now has the plan's
        enabled state and next fire time, so the answer reads neither again."""
        fire = self._publisher.publish(plan, now=now, previous_upstreams=previous_upstreams, row_written=True)
        self._ports.commit()
        return self._views.views([plan], dag_state_read=True, next_fires={plan.id: fire})[0]

    def _entity(self, ref: EntityRef) -> Entity:
        entity = self._ports.catalog.get(ref.entity_group, ref.entity_key)
        if entity is None:
            raise InvalidInputError(
                f"entityKey: no {ref.entity_group} entity with key {ref.entity_key!r} in the entity catalog",
                field="entityKey",
            )
        return entity

    @staticmethod
    def _check_items_belong(plan: Plan | None, items: Sequence[ItemRequest]) -> None:
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
        store, catalog = self._ports.store, self._ports.catalog
        upstreams: list[EntityRef] = []
        for index, item in enumerate(items):
            for position, upstream in enumerate(item.trigger_by_jobs):
                # An upstream is an entity: its plan's runs, or a hand-written DAG declaring the
                # entity's asset as an outlet, signal that it finished.
                known = store.get_by_entity(upstream) is not None
                if not known and catalog.get(upstream.entity_group, upstream.entity_key) is None:
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
        store.lock_plan_graph()
        edges = store.dependency_edges()
        edges[ref] = upstreams
        cycle = find_cycle(edges)
        if cycle:
            path = " -> ".join(f"{r.entity_group} {r.entity_key}" for r in cycle)
            raise InvalidInputError(f"planItems: dependency cycle {path}", field="planItems")
