"""A plan as Airflow sees it, and publishing it as its DAG.

A plan's `enabled` follows its DAG's pause state once Airflow knows the DAG: pausing or unpausing
the plan's DAG in the Airflow UI disables or enables the plan, and the next write records it.
Publishing writes the plan's DAG (file, parse request, pause state) and refreshes the upstreams
whose "finished" event a write added or removed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from taskcenter.domain.plans import EntityRef, Plan
from taskcenter.domain.schedule import CronEntry, MultiZoneSchedule
from taskcenter.services.ports import PlanDags, Ports


def next_fire(plan: Plan, *, now: datetime) -> datetime | None:
    """The plan's next cron fire time (what its timetable schedules), or None."""
    if not plan.enabled or not plan.cron_items:
        return None
    entries = [CronEntry(item_id=i.id, expression=i.cron_desc or "", zone=i.time_zone or "") for i in plan.cron_items]
    fire = MultiZoneSchedule(entries).next_fire(after=now)
    return None if fire is None else fire.at


def with_dag_state(plans: Sequence[Plan], dags: PlanDags) -> list[Plan]:
    """The plans with `enabled` as their DAG's pause state says (one read for all of them)."""
    paused = dags.paused([p.id for p in plans]) if plans else {}
    return [
        dataclasses.replace(p, enabled=not paused[p.id]) if p.id in paused and paused[p.id] == p.enabled else p
        for p in plans
    ]


def enabled_to_store(requested: bool | None, *, stored: Plan | None, effective: Plan | None) -> bool | None:
    """What a write stores as `enabled`: the request's, else the DAG's state when the UI changed it."""
    if requested is not None:
        return requested
    if stored is not None and effective is not None and stored.enabled != effective.enabled:
        return effective.enabled
    return None


class Publisher:
    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    def effective(self, plan: Plan | None) -> Plan | None:
        """`with_dag_state` of one plan (None stays None)."""
        return None if plan is None else with_dag_state([plan], self._ports.dags)[0]

    def publish(
        self, plan: Plan, *, now: datetime, previous_upstreams: Sequence[EntityRef] = (), row_written: bool = False
    ) -> datetime | None:
        """Publish the plan (`row_written`: this request wrote its row) and the upstreams it changed;
        returns the plan's next fire time (what its DAG was published with)."""
        fire = self.publish_one(plan, now=now, row_written=row_written)
        # An upstream emits its "finished" event only while some plan waits for it: refresh the
        # upstreams this write added or removed (unchanged files are not rewritten).
        refs = sorted({*plan.upstreams, *previous_upstreams}, key=lambda r: (r.entity_group, r.entity_key))
        upstreams = [p for ref in refs if (p := self._ports.store.get_by_entity(ref)) is not None]
        for upstream in with_dag_state(upstreams, self._ports.dags):
            self.publish_one(upstream, now=now)
        return fire

    def publish_one(self, plan: Plan, *, now: datetime, row_written: bool = False) -> datetime | None:
        owner = None
        if plan.created_by is not None:
            user = self._ports.users.get_many([plan.created_by]).get(plan.created_by)
            owner = user.login_name if user else None
        fire = next_fire(plan, now=now)
        self._ports.dags.publish(
            plan,
            owner=owner,
            next_run=fire,
            emit_finished=self._ports.store.finished_subscribers(plan.ref),
            row_written=row_written,
        )
        return fire
