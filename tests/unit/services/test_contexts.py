"""The context service: the bounded wait of block=true, which trigger a run names, list costs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from taskcenter.adapters.store.cancels import CancelRepository
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.plans import EntityRef, PlanQuery
from taskcenter.domain.runs import Run
from taskcenter.services.contexts import ContextService
from tests.unit.services.conftest import (
    ADMIN,
    NOW,
    SETTINGS,
    FakeDags,
    PlanServices,
    cron,
    plan_ports,
    update_command,
    write_command,
)

DEPENDS_ON_PIPELINE = {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}]}
DEPENDS_ON_SYNC = {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "DB_BATCH_SYNC", "entityKey": "1"}]}


def run_of(run_pk: int, *, plan_id: int, run_id: str, **facts: Any) -> Run:
    """A running manual run of the plan, as Airflow reports it."""
    values: dict[str, Any] = {
        "state": "running",
        "queued_at": NOW,
        "start_date": NOW,
        "run_after": NOW,
        "run_type": "manual",
        "created_at": NOW,
    }
    return Run(id=run_pk, plan_id=plan_id, dag_id=f"taskcenter_plan_{plan_id}", run_id=run_id, **{**values, **facts})


@dataclass
class Runs:
    """The `Runs` port: runs by id, what triggered them, their logs; `ends`: a wait sees the end."""

    by_id: dict[int, Run] = field(default_factory=dict)
    triggered_by: dict[int, list[EntityRef]] = field(default_factory=dict)
    ends: bool = True
    waited: list[float] = field(default_factory=list)

    def get(self, run_pk: int) -> Run | None:
        return self.by_id.get(run_pk)

    def heartbeats(self, run_pks: list[int]) -> dict[int, datetime]:
        return {}

    def triggering_entities(self, run_pks: list[int]) -> dict[int, list[EntityRef]]:
        return {pk: self.triggered_by[pk] for pk in run_pks if pk in self.triggered_by}

    def log_parts(self, run: Run, *, default_sub_key: str) -> list[tuple[str, list[str]]]:
        return [(default_sub_key, [f"state {run.state}"])]

    def result_parts(self, run: Run, *, default_sub_key: str) -> list[tuple[str, Any]]:
        return []

    def wait_for_end(self, run_pk: int, *, timeout: float) -> Run | None:
        self.waited.append(timeout)
        if not self.ends:
            return None
        return dataclasses.replace(self.by_id[run_pk], state="success", end_date=NOW + timedelta(seconds=2))


@pytest.fixture
def runs() -> Runs:
    return Runs()


def contexts(session: Session, runs: Any) -> ContextService:
    ports = plan_ports(session, FakeDags(), runs=runs, cancels=CancelRepository(session))
    return ContextService(ports, settings=dataclasses.replace(SETTINGS, logs_block_timeout=7.0))


@pytest.mark.parametrize("ends", [True, False])
def test_block_waits_for_the_end_at_most_the_timeout(
    service: PlanServices, session: Session, runs: Runs, ends: bool
) -> None:
    plan = service.write_plan(write_command({"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": []}), ADMIN).plan
    runs.by_id[5] = run_of(5, plan_id=plan.id, run_id="manual__1")
    runs.ends = ends
    waited = contexts(session, runs).logs(5, block=True)
    assert runs.waited == [7.0]
    assert waited.done is ends
    assert waited.parts[0].logs == (("state success",) if ends else ("state running",))
    at_once = contexts(session, runs).logs(5, block=False)
    assert at_once.done is False and at_once.parts[0].sub_key == "1"


def test_logs_and_results_read_the_run_and_its_plan_only(service: PlanServices, session: Session, runs: Runs) -> None:
    """No context view is built for them: no heartbeats, triggers, users or cancel records."""
    plan = service.write_plan(write_command({"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": []}), ADMIN).plan
    runs.by_id[5] = run_of(5, plan_id=plan.id, run_id="manual__1", state="success")

    def not_for_outputs(*_: Any, **__: Any) -> Any:
        raise AssertionError("logs and results read no context view")

    for name in ("heartbeats", "triggering_entities"):
        setattr(runs, name, not_for_outputs)
    service_ = contexts(session, runs)
    service_._ports.users.get_many = not_for_outputs  # type: ignore[method-assign]
    assert service_.logs(5, block=True).done and runs.waited == []
    assert service_.results(5, block=True).parts == ()


def test_a_run_names_the_trigger_that_started_it(service: PlanServices, session: Session, runs: Runs) -> None:
    for group, key in (("PIPELINE", "1"), ("DB_BATCH_SYNC", "1")):
        service.write_plan(write_command({"entityGroup": group, "entityKey": key, "planItems": []}), ADMIN)
    plan = service.write_plan(
        write_command(
            {
                "entityGroup": "NOTEBOOK",
                "entityKey": "2",
                "planItems": [cron("0 0 9 * * ?"), DEPENDS_ON_PIPELINE, DEPENDS_ON_SYNC],
            }
        ),
        ADMIN,
    ).plan
    session.commit()
    session.expire_all()  # read back as stored
    cron_item, on_pipeline, on_sync = PlanRepository(session).get(plan.id).items
    runs.by_id.update(
        {
            1: run_of(
                1,
                plan_id=plan.id,
                run_id=f"scheduled__2026-12-01T09:00:00+00:00__items-{cron_item.id}",
                run_type="scheduled",
            ),
            2: run_of(2, plan_id=plan.id, run_id="asset_triggered__a", run_type="asset_triggered"),
            3: run_of(3, plan_id=plan.id, run_id="asset_triggered__b", run_type="asset_triggered"),
            4: run_of(4, plan_id=plan.id, run_id="manual__x", conf={"taskcenter": {"plan_item_id": on_pipeline.id}}),
        }
    )
    runs.triggered_by = {2: [EntityRef(entity_group="DB_BATCH_SYNC", entity_key="1")], 3: []}
    service_ = contexts(session, runs)
    assert service_.get(1).item == cron_item
    assert service_.get(2).item == on_sync  # the item of the upstream whose event started it
    assert service_.get(3).item == on_pipeline  # nothing known: the plan's first dependency
    assert service_.get(4).item == on_pipeline
    # A trigger a later write replaced is still named by the runs it fired.
    service.update_plan(plan.id, update_command({"planItems": []}), ADMIN)
    session.expire_all()
    assert service_.get(1).item.cron_desc == "0 0 9 * * ?"


def test_a_listing_leaves_out_the_runs_of_a_plan_deleted_meanwhile(
    service: PlanServices, session: Session, runs: Runs
) -> None:
    """A concurrent delete commits between the read of the runs and the read of their plans."""
    plan = service.write_plan(write_command({"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": []}), ADMIN).plan
    run = run_of(5, plan_id=plan.id, run_id="manual__1")
    runs.page = lambda **_: (1, [run])  # type: ignore[attr-defined] - read before the delete
    service.delete_plan(plan.id)
    listing = contexts(session, runs).list_contexts(PlanQuery(offset=0, limit=10))
    assert listing.views == ()
