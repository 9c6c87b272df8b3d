"""Run-now (`POST /api/schedules` with only ONCE items): start a run of the entity's plan at once.

The plan is created first when the entity has none. If Airflow cannot start the run, the request
takes back what it stored: its ONCE item, the plan it created, or the changes it made.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from taskcenter.domain.catalog import Entity
from taskcenter.domain.errors import ConflictError, ErrorCode, NotFoundError, TaskCenterError
from taskcenter.domain.jobs import default_exec_detail
from taskcenter.domain.plan_requests import entity_group
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan, PlanItem
from taskcenter.domain.runs import Run
from taskcenter.domain.users import Caller
from taskcenter.services.plan_views import PlanView, PlanViews
from taskcenter.services.ports import Ports, ServiceSettings
from taskcenter.services.publishing import Publisher


@dataclass(frozen=True, kw_only=True)
class RunNowRequest:
    """A validated run-now: the entity, its plan as Airflow sees it (None: none yet), and the
    execDetail and enabled the request also sets."""

    ref: EntityRef
    entity: Entity
    existing: Plan | None
    detail: ExecDetail | None
    enabled: bool | None
    now: datetime
    sync: bool = False


@dataclass(frozen=True, kw_only=True)
class _Prepared:
    plan: Plan
    created: bool  # this request created the plan
    before: Plan | None  # the plan as it was before this request changed it


class RunNow:
    def __init__(self, ports: Ports, *, settings: ServiceSettings) -> None:
        self._ports = ports
        self._settings = settings
        self._publisher = Publisher(ports)

    def run_now(self, request: RunNowRequest, caller: Caller) -> PlanView:
        """Start a run at once (`sync`: answer once it ended); refused for a disabled plan."""
        ports = self._ports
        prepared = self._prepare(request, caller)
        plan = prepared.plan
        if not plan.enabled:
            raise ConflictError("plan is disabled; enable it first", code=ErrorCode.PLAN_DISABLED)
        once = ports.store.add_once_item(plan.id, user_id=caller.user_id, now=request.now)
        fire = self._publisher.publish(plan, now=request.now)
        ports.commit()  # the dag-processor must see the file's parse request before the run can start
        try:
            run = ports.dags.start_run(
                plan, item_id=once.id, user_name=caller.name, parse_timeout=self._settings.parse_timeout
            )
        except TaskCenterError:
            self._take_back(prepared, once=once)
            raise
        ports.commit()
        shown: Run | None = run
        if request.sync:
            shown = ports.runs.wait_for_end(run.id, timeout=self._settings.sync_timeout)
        views = PlanViews(ports)
        view = views.views([plan], dag_state_read=True, next_fires={plan.id: fire})[0]
        # The answer describes the run it started (ended, with `sync`), not the plan's newest run:
        # a cron tick may have started another meanwhile. A sync that timed out shows the newest.
        latest = view.latest_run if shown is None else views.summary(shown)
        return dataclasses.replace(view, items=(once,), context_id=run.id, latest_run=latest)

    def _prepare(self, request: RunNowRequest, caller: Caller) -> _Prepared:
        """The plan to run: created if the entity has none, with the request's changes applied."""
        store, now = self._ports.store, request.now
        existing, created, before = request.existing, False, request.existing
        if existing is None:
            plan = store.create(
                ref=request.ref,
                exec_detail=request.detail
                or default_exec_detail(entity_group(request.ref.entity_group), request.ref.entity_key),
                enabled=True if request.enabled is None else request.enabled,
                items=(),
                title=request.entity.title,
                entity_created_by=request.entity.created_by,
                user_id=caller.user_id,
                now=now,
            )
            created = plan is not None
            existing = plan or self._publisher.effective(store.get_by_entity(request.ref))
            if existing is None:
                raise NotFoundError("created and deleted by other requests meanwhile")
            before = None if created else existing
        if not created and (request.detail is not None or request.enabled is not None):
            # Re-read as the DAG's pause state says: the store alone would forget a pause in the UI.
            changed = store.update(
                existing.id, exec_detail=request.detail, enabled=request.enabled, user_id=caller.user_id, now=now
            )
            existing = self._publisher.effective(changed)
            assert existing is not None
        return _Prepared(plan=existing, created=created, before=before)

    def _take_back(self, prepared: _Prepared, *, once: PlanItem) -> None:
        """Undo a failed run-now: its ONCE item, the plan it created, or the changes it made."""
        store, plan, before = self._ports.store, prepared.plan, prepared.before
        store.remove_item(once.id)
        if prepared.created:
            store.delete(plan.id)
            self._ports.dags.unpublish(plan.id)
        elif before is not None and (before.exec_detail != plan.exec_detail or before.enabled != plan.enabled):
            # As it was, down to who changed it last and when.
            restored = store.update(
                plan.id,
                exec_detail=before.exec_detail,
                enabled=before.enabled,
                user_id=before.updated_by,
                now=before.updated_at,
            )
            self._publisher.publish_one(restored, now=self._ports.clock(), row_written=True)
        self._ports.commit()
