"""Execution contexts (任务执行进度信息): a plan's DAG runs, read, listed and cancelled.

A context is a DAG run of a plan DAG; its id is the run's integer id. Airflow has no cancelled
state: cancel asks the run's job to stop (what has not started never starts), records the request
in taskcenter's own table, and the run, failed in Airflow once its processes are gone, shows
CANCELLED when it stopped for the cancel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from taskcenter.domain.catalog import Entity
from taskcenter.domain.errors import NotFoundError
from taskcenter.domain.plans import EntityRef, Plan, PlanItem, PlanQuery, TriggerType
from taskcenter.domain.results import as_table
from taskcenter.domain.runs import JobStatus, Run, cost_seconds, job_status
from taskcenter.domain.schedule import fired_item_ids
from taskcenter.domain.users import Caller, UserInfo
from taskcenter.services.plan_views import check_page, entity_creator_names, existing_plan, users_in_order
from taskcenter.services.ports import Ports, ServiceSettings


@dataclass(frozen=True, kw_only=True)
class ContextView:
    run: Run
    plan: Plan
    status: JobStatus
    item: PlanItem | None
    entity: Entity | None
    entity_created_by_name: str | None
    created_by: int | None
    heartbeat: datetime | None
    cost_time: int | None


@dataclass(frozen=True, kw_only=True)
class SubKeyOutput:
    """What one sub-step (`subKey`) of a run produced: its log lines or its result table."""

    sub_key: str
    logs: tuple[str, ...] = ()
    result: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class RunOutput:
    parts: tuple[SubKeyOutput, ...]
    done: bool


@dataclass(frozen=True, kw_only=True)
class ContextListing:
    total: int
    views: tuple[ContextView, ...]


class ContextService:
    def __init__(self, ports: Ports, *, settings: ServiceSettings) -> None:
        self._ports = ports
        self._settings = settings

    def get(self, context_id: int) -> ContextView:
        run, plan = self._run_and_plan(context_id)
        return self._views([run], {plan.id: plan})[0]

    def logs(self, context_id: int, *, block: bool) -> RunOutput:
        """Logs per subKey, every try in order; `block` waits (bounded) until the run ended."""
        run, plan, done = self._settled(context_id, block=block)
        parts = self._ports.runs.log_parts(run, default_sub_key=plan.entity_key)
        return RunOutput(parts=tuple(SubKeyOutput(sub_key=k, logs=tuple(lines)) for k, lines in parts), done=done)

    def results(self, context_id: int, *, block: bool) -> RunOutput:
        run, plan, done = self._settled(context_id, block=block)
        tables = [(k, as_table(v)) for k, v in self._ports.runs.result_parts(run, default_sub_key=plan.entity_key)]
        return RunOutput(parts=tuple(SubKeyOutput(sub_key=k, result=t) for k, t in tables if t), done=done)

    def _run_and_plan(self, context_id: int) -> tuple[Run, Plan]:
        run = self._ports.runs.get(context_id)
        plan = self._ports.store.get(run.plan_id) if run is not None and run.plan_id is not None else None
        if run is None or plan is None:
            raise NotFoundError(f"contextId: no execution context with id {context_id}", field="contextId")
        return run, plan

    def _settled(self, context_id: int, *, block: bool) -> tuple[Run, Plan, bool]:
        """The run and its plan, read directly (logs and results need no view); `block` waits."""
        run, plan = self._run_and_plan(context_id)
        if block and not run.ended:
            self._ports.commit()  # end this session's snapshot; the wait reads what the scheduler commits
            ended = self._ports.runs.wait_for_end(run.id, timeout=self._settings.logs_block_timeout)
            if ended is not None:
                run = ended
        return run, plan, run.ended

    def list_contexts(self, query: PlanQuery) -> ContextListing:
        """A page of the runs of the matching plans, newest first; filters and count in SQL."""
        check_page(query)
        total, runs = self._ports.runs.page(query=query)
        plans = {
            p.id: p for p in self._ports.store.get_many(sorted({r.plan_id for r in runs if r.plan_id is not None}))
        }
        # A plan deleted by a concurrent request after its runs were read: its runs are gone too.
        return ContextListing(total=total, views=self._views([r for r in runs if r.plan_id in plans], plans))

    def users(self, query: PlanQuery) -> list[UserInfo]:
        """The creators of the entities of the plans that have matching runs (every run, not a page)."""
        return users_in_order(self._ports.store.entity_creators(query, by_runs=True), self._ports.users)

    def cancel_plan(self, plan_id: int, caller: Caller) -> int:
        return self._cancel(existing_plan(self._ports, plan_id), caller)

    def cancel_entity(self, ref: EntityRef, caller: Caller) -> int:
        plan = self._ports.store.get_by_entity(ref)
        if plan is None:
            raise NotFoundError(f"no plan for {ref.entity_group} {ref.entity_key!r}", field="entityKey")
        return self._cancel(plan, caller)

    def _cancel(self, plan: Plan, caller: Caller) -> int:
        """Cancel every PENDING or RUNNING run of the plan; the plan stays as it is.

        What has not started never starts; a running job is asked to stop and its run stays
        RUNNING until the job's processes are gone, then it is CANCELLED (docs/api.md, Cancel).
        Idempotent: a run that ended since it was read (another cancel ended it, or it finished)
        is left as it is and not recorded, so two cancels at once both succeed and the run keeps
        the first one's record; a run that finished first keeps its real status.
        """
        now = self._ports.clock()
        active = self._ports.runs.unfinished(plan.id)
        asked: list[Run] = []
        stopped: list[int] = []
        for run in active:
            start = self._ports.runs.request_cancel(plan.id, run.run_id, by=caller.name, at=now)
            if start is None:
                continue
            asked.append(run)
            if start.stopped:
                stopped.append(run.id)
        if asked:
            self._ports.cancels.record(asked, plan_id=plan.id, user_id=caller.user_id, now=now, stopped=stopped)
        self._ports.commit()
        return len(asked)

    def _views(self, runs: Sequence[Run], plans: Mapping[int, Plan]) -> tuple[ContextView, ...]:
        now = self._ports.clock()
        pks = [r.id for r in runs]
        cancelled = self._ports.cancels.cancelled(runs)
        beats = self._ports.runs.heartbeats(pks)
        triggers = self._ports.runs.triggering_entities([r.id for r in runs if r.asset_triggered])
        logins = self._ports.users.ids_by_login([r.triggering_user_name for r in runs if r.triggering_user_name])
        entities = {plan_id: self._ports.catalog.get(p.entity_group, p.entity_key) for plan_id, p in plans.items()}
        names = entity_creator_names(entities.values(), self._ports.users)
        items = self._ports.store.items([i for run in runs if (i := _started_by_item(run)) is not None])
        # A plan whose entity left the catalog still names the creator copied onto the plan.
        orphan_creators = sorted(
            {p.entity_created_by for i, p in plans.items() if entities[i] is None and p.entity_created_by is not None}
        )
        orphan_names = self._ports.users.get_many(orphan_creators) if orphan_creators else {}
        views = []
        for run in runs:
            plan = plans[run.plan_id or -1]
            entity = entities[plan.id]
            if entity is not None:
                name = names.get(entity.key_ref)
            else:
                user = orphan_names.get(plan.entity_created_by) if plan.entity_created_by is not None else None
                name = user.name if user else None
            views.append(
                ContextView(
                    run=run,
                    plan=plan,
                    status=job_status(run.state, cancelled=run.id in cancelled),
                    item=_item(run, plan, items, triggers.get(run.id, [])),
                    entity=entity,
                    entity_created_by_name=name,
                    created_by=logins.get(run.triggering_user_name or "", plan.created_by),
                    heartbeat=beats.get(run.id),
                    cost_time=cost_seconds(run.start_date, run.end_date, now=now),
                )
            )
        return tuple(views)


def _started_by_item(run: Run) -> int | None:
    """The id of the item a run names itself: the run-now's ONCE item (in its conf) or the cron item
    that fired (in its run id)."""
    conf = (run.conf or {}).get("taskcenter") or {}
    item_id = conf.get("plan_item_id") if isinstance(conf, dict) else None
    if isinstance(item_id, int):
        return item_id
    fired = fired_item_ids(run.run_id)
    return fired[0] if fired else None


def _item(run: Run, plan: Plan, items: Mapping[int, PlanItem], triggered_by: Sequence[EntityRef]) -> PlanItem | None:
    """The trigger that started the run: the ONCE item, the cron item that fired, or the dependency.

    An item a later write replaced is still found (the store keeps it), so an old run keeps
    naming what started it. For an asset-triggered run it is the DEPENDENCY item listing the
    entity whose event started the run.
    """
    item_id = _started_by_item(run)
    if item_id is not None:
        return items.get(item_id)
    if run.asset_triggered:
        dependencies = [i for i in plan.items if i.trigger_type is TriggerType.DEPENDENCY]
        for ref in triggered_by:
            for item in dependencies:
                if ref in item.trigger_by_jobs:
                    return item
        return dependencies[0] if dependencies else None
    return None
