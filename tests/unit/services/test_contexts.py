"""ContextService: the bounded wait of block=true, which trigger a run names, list costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG, FileEntityCatalog
from taskcenter.adapters.store.cancels import CancelRepository
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.plans import EntityRef, PlanQuery
from taskcenter.services.contexts import ContextService
from taskcenter.services.plans import PlanService
from tests.unit.services.conftest import ADMIN, NOW, cron, FakeUsers, update_command, write_command


DEPENDS_ON_PIPELINE = {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}]}
DEPENDS_ON_SYNC = {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "DB_BATCH_SYNC", "entityKey": "1"}]}


@dataclass
class Run:
    id: int
    plan_id: int | None
    run_id: str
    state: str | None = "running"
    queued_at: datetime | None = NOW
    start_date: datetime | None = NOW
    end_date: datetime | None = None
    run_after: datetime | None = NOW
    run_type: str | None = "manual"
    conf: dict[str, Any] | None = None
    created_at: datetime | None = NOW
    triggering_user_name: str | None = None
    clear_number: int = 0


@dataclass
class Runs:
    by_id: dict[int, Run] = field(default_factory=dict)
    triggered_by: dict[int, list[EntityRef]] = field(default_factory=dict)

    def run(self, run_pk: int) -> Run | None:
        return self.by_id.get(run_pk)

    def heartbeats(self, run_pks: list[int]) -> dict[int, datetime]:
        return {}

    def triggering_entities(self, run_pks: list[int]) -> dict[int, list[EntityRef]]:
        return {pk: self.triggered_by[pk] for pk in run_pks if pk in self.triggered_by}


class Outputs:
    def __init__(self, *, ends: bool) -> None:
        self.ends = ends
        self.waited: list[float] = []

    def log_parts(self, run: Any, *, default_sub_key: str) -> list[tuple[str, list[str]]]:
        return [(default_sub_key, [f"state {run.state}"])]

    def result_parts(self, run: Any, *, default_sub_key: str) -> list[tuple[str, Any]]:
        return []

    def wait_for_end(self, run_pk: int, *, timeout: float) -> Run | None:
        self.waited.append(timeout)
        return Run(id=run_pk, plan_id=1, run_id="manual__1", state="success", end_date=NOW + timedelta(seconds=2)) if self.ends else None


@pytest.fixture
def runs() -> Runs:
    return Runs()


def contexts(session: Session, runs: Runs, outputs: Outputs | None = None) -> ContextService:
    return ContextService(
        plans=PlanRepository(session),
        runs=runs,  # type: ignore[arg-type]
        cancels=CancelRepository(session),
        catalog=FileEntityCatalog(DEMO_CATALOG),
        users=FakeUsers(),  # type: ignore[arg-type]
        commit=session.commit,
        outputs=outputs,
        block_timeout=7.0,
        clock=lambda: NOW,
    )


@pytest.mark.parametrize("ends", [True, False])
def test_block_waits_for_the_end_at_most_the_timeout(service: PlanService, session: Session, runs: Runs, ends: bool) -> None:
    plan = service.write_plan(write_command({"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": []}), ADMIN).plan
    runs.by_id[5] = Run(id=5, plan_id=plan.id, run_id="manual__1")
    outputs = Outputs(ends=ends)
    waited = contexts(session, runs, outputs).logs(5, block=True)
    assert outputs.waited == [7.0]
    assert waited.done is ends
    assert waited.parts[0].logs == (("state success",) if ends else ("state running",))
    at_once = contexts(session, runs, Outputs(ends=True)).logs(5, block=False)
    assert at_once.done is False and at_once.parts[0].sub_key == "1"


def test_a_run_names_the_trigger_that_started_it(service: PlanService, session: Session, runs: Runs) -> None:
    for group, key in (("PIPELINE", "1"), ("DB_BATCH_SYNC", "1")):
        service.write_plan(write_command({"entityGroup": group, "entityKey": key, "planItems": []}), ADMIN)
    plan = service.write_plan(
        write_command({"entityGroup": "NOTEBOOK", "entityKey": "2", "planItems": [cron("0 0 9 * * ?"), DEPENDS_ON_PIPELINE, DEPENDS_ON_SYNC]}), ADMIN
    ).plan
    session.commit()
    session.expire_all()  # read back as stored
    cron_item, on_pipeline, on_sync = PlanRepository(session).get(plan.id).items
    runs.by_id.update(
        {
            1: Run(id=1, plan_id=plan.id, run_id=f"scheduled__2026-12-01T09:00:00+00:00__items-{cron_item.id}", run_type="scheduled"),
            2: Run(id=2, plan_id=plan.id, run_id="asset_triggered__a", run_type="asset_triggered"),
            3: Run(id=3, plan_id=plan.id, run_id="asset_triggered__b", run_type="asset_triggered"),
            4: Run(id=4, plan_id=plan.id, run_id="manual__x", conf={"taskcenter": {"plan_item_id": on_pipeline.id}}),
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


def test_a_listing_leaves_out_the_runs_of_a_plan_deleted_meanwhile(service: PlanService, session: Session, runs: Runs) -> None:
    """A concurrent delete commits between the read of the runs and the read of their plans."""
    plan = service.write_plan(write_command({"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": []}), ADMIN).plan
    run = Run(id=5, plan_id=plan.id, run_id="manual__1")
    runs.page = lambda **_: (1, [run])  # type: ignore[attr-defined] - read before the delete
    service.delete_plan(plan.id)
    listing = contexts(session, runs).list(PlanQuery(offset=0, limit=10))
    assert listing.views == ()
