"""The plan services (writes, run-now, views): checks before writes, take-backs, the DAG's pause
state, listing totals, one read and one parse per write."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.errors import ConflictError, InvalidInputError, ServiceUnavailableError
from taskcenter.domain.plans import PlanQuery
from taskcenter.domain.runs import Run
from tests.unit.services.conftest import (
    ADMIN,
    NOW,
    FakeDags,
    PlanServices,
    cron,
    fake_run,
    stored,
    stored_plans,
    update_command,
    write_command,
)

NOTEBOOK_JOB = "com.hengshi.nangaparbat.schedulejob.NotebookJob"


def plan_body(group: str = "NOTEBOOK", key: str = "1", **extra: Any) -> dict[str, Any]:
    return {"entityGroup": group, "entityKey": key, "planItems": [], **extra}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (plan_body(planItems=[cron("0 0 25 * * ?")]), "planItems[0].cronDesc"),
        (plan_body(planItems=[cron("0 0 9 31 2 ?")]), "planItems[0].cronDesc"),  # never fires
        (plan_body(planItems=[cron("0 0 9 * * ? 2020")]), "planItems[0].cronDesc"),  # a past year
        (plan_body(planItems=[cron("0 0 9 * * ?", timeZone="")]), "planItems[0].timeZone"),
        (plan_body(planItems=[cron("0 0 9 * * ?", cronType="")]), "planItems[0].cronType"),
        (plan_body(planItems=[{"id": 7, **cron("0 0 9 * * ?")}]), "planItems[0].id"),  # a new plan has no items
        (plan_body(key="999"), "entityKey"),
        (plan_body(execDetail={"jobClass": "com.hengshi.nangaparbat.schedulejob.PipelineJob"}), "execDetail.jobClass"),
        (plan_body(execDetail={"jobParams": {"notebook": 2}}), "execDetail.jobParams.notebook"),
    ],
)
def test_a_rejected_write_stores_and_publishes_nothing(
    service: PlanServices, session: Session, dags: FakeDags, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        service.write_plan(write_command(body), ADMIN)
    assert raised.value.field == field and field in raised.value.message
    session.rollback()  # what the request's session does with a failed request
    assert stored_plans(session) == [] and dags.published == {}


def test_a_dependency_cycle_is_refused_and_nothing_changes(service: PlanServices, session: Session) -> None:
    upstream = service.write_plan(write_command(plan_body("PIPELINE", "1")), ADMIN).plan

    def depends_on(group: str, key: str) -> list[dict[str, Any]]:
        return [{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": group, "entityKey": key}]}]

    service.write_plan(write_command(plan_body("NOTEBOOK", "2", planItems=depends_on("PIPELINE", "1"))), ADMIN)
    with pytest.raises(InvalidInputError, match="dependency cycle") as raised:
        service.update_plan(upstream.id, update_command({"planItems": depends_on("NOTEBOOK", "2")}), ADMIN)
    assert "PIPELINE 1" in raised.value.message and "NOTEBOOK 2" in raised.value.message
    session.rollback()
    assert stored(session, upstream.id).items == ()


def test_a_write_that_changes_nothing_keeps_updated_at(service: PlanServices, session: Session) -> None:
    plan_id = service.write_plan(write_command(plan_body(planItems=[cron("0 0 9 * * ?")])), ADMIN).plan.id
    first = stored(session, plan_id)
    (item,) = first.items
    service = service.at(NOW.replace(hour=11))
    service.write_plan(write_command(plan_body(planItems=[{"id": item.id, **cron("0 0 9 * * ?")}])), ADMIN)
    assert stored(session, plan_id) == first


def test_a_replaced_trigger_is_kept_for_the_runs_it_fired(service: PlanServices, session: Session) -> None:
    plan = service.write_plan(write_command(plan_body(planItems=[cron("0 0 9 * * ?")])), ADMIN).plan
    (old,) = plan.items
    updated = service.update_plan(plan.id, update_command({"planItems": [cron("0 30 9 * * ?")]}), ADMIN).plan
    assert [i.cron_desc for i in updated.items] == ["0 30 9 * * ?"]
    kept = PlanRepository(session).item(old.id)
    assert kept is not None and kept.cron_desc == "0 0 9 * * ?"


def test_run_now_that_airflow_cannot_start_takes_back_the_plan_it_created(
    service: PlanServices, session: Session, dags: FakeDags
) -> None:
    dags.fail_start = True
    with pytest.raises(ServiceUnavailableError):
        service.write_plan(write_command(plan_body(planItems=[{"triggerType": "ONCE"}])), ADMIN)
    session.rollback()
    assert stored_plans(session) == []
    assert dags.unpublished and dags.published == {}


def test_run_now_that_airflow_cannot_start_restores_the_plan_it_changed(
    service: PlanServices, session: Session, dags: FakeDags
) -> None:
    plan = stored(session, service.write_plan(write_command(plan_body(planItems=[cron("0 0 9 * * ?")])), ADMIN).plan.id)
    dags.fail_start = True
    service = service.at(NOW.replace(hour=11))
    body = plan_body(
        planItems=[{"triggerType": "ONCE"}],
        execDetail={"jobClass": NOTEBOOK_JOB, "jobParams": {"notebook": 1}, "retryTimes": 2},
    )
    with pytest.raises(ServiceUnavailableError):
        service.write_plan(write_command(body), ADMIN)
    session.rollback()
    (after,) = stored_plans(session)
    assert after == plan  # execDetail, updatedAt, triggers: all as before
    assert dags.published[plan.id].exec_detail.retry_times == 0


def test_run_now_answers_with_the_once_item_and_the_ended_run(service: PlanServices, dags: FakeDags) -> None:
    plan = service.write_plan(write_command(plan_body(planItems=[cron("0 0 9 * * ?")])), ADMIN).plan
    view = service.write_plan(write_command({**plan_body(planItems=[{"triggerType": "ONCE"}]), "sync": True}), ADMIN)
    (once,) = view.items
    assert once.trigger_type.value == "ONCE" and once.plan_id == plan.id
    assert view.context_id == 100 and dags.started == [(plan.id, once.id)]
    assert (
        view.latest_run is not None and view.latest_run.status.value == "SUCCESSFUL" and view.latest_run.cost_time == 3
    )
    assert [i.cron_desc for i in service.get_plan(plan.id).items] == ["0 0 9 * * ?"]


def test_run_now_answers_with_its_own_run_when_a_cron_tick_started_a_newer_one(
    service: PlanServices, dags: FakeDags
) -> None:
    plan = service.write_plan(write_command(plan_body(planItems=[cron("*/30 * * * * ?")])), ADMIN).plan
    tick = fake_run(999, "scheduled__tick", plan_id=plan.id, state="running", start_date=NOW)
    ended = dags.wait_for_end

    def tick_meanwhile(run_pk: int, *, timeout: float) -> Run | None:
        run = ended(run_pk, timeout=timeout)
        dags.runs[plan.id] = tick  # the plan's newest run is now the cron's
        return run

    dags.wait_for_end = tick_meanwhile  # type: ignore[method-assign]
    view = service.write_plan(write_command({**plan_body(planItems=[{"triggerType": "ONCE"}]), "sync": True}), ADMIN)
    assert view.context_id == 100
    assert view.latest_run is not None and view.latest_run.id == 100 and view.latest_run.status.value == "SUCCESSFUL"

    unsynced = service.write_plan(write_command(plan_body(planItems=[{"triggerType": "ONCE"}])), ADMIN)
    assert unsynced.latest_run is not None and unsynced.latest_run.id == unsynced.context_id
    assert unsynced.latest_run.status.value == "PENDING"


def test_run_now_on_a_disabled_plan_is_refused_and_stores_nothing(
    service: PlanServices, session: Session, dags: FakeDags
) -> None:
    plan = stored(session, service.write_plan(write_command(plan_body(enabled=False)), ADMIN).plan.id)
    with pytest.raises(ConflictError, match="disabled"):
        service.write_plan(write_command(plan_body(planItems=[{"triggerType": "ONCE"}])), ADMIN)
    session.rollback()
    assert dags.started == []
    assert stored(session, plan.id) == plan


def test_a_paused_dag_disables_the_plan_and_the_next_write_records_it(
    service: PlanServices, session: Session, dags: FakeDags
) -> None:
    plan = service.write_plan(write_command(plan_body(planItems=[cron("0 0 9 * * ?")])), ADMIN).plan
    dags.paused_dags[plan.id] = True  # paused in the Airflow UI
    view = service.get_plan(plan.id)
    assert view.plan.enabled is False and view.next_start_at is None
    with pytest.raises(ConflictError):
        service.write_plan(write_command(plan_body(planItems=[{"triggerType": "ONCE"}])), ADMIN)
    session.rollback()
    service.update_plan(plan.id, update_command({"planItems": [cron("0 0 10 * * ?")]}), ADMIN)
    assert PlanRepository(session).get(plan.id).enabled is False
    assert dags.paused_dags[plan.id] is True


def test_listing_totals_count_each_dataset_once(service: PlanServices) -> None:
    for group, key in (("DATASET", "1-1"), ("APP_REFRESH", "1"), ("SCREENSHOT", "1"), ("NOTEBOOK", "1")):
        service.write_plan(write_command(plan_body(group, key)), ADMIN)
    listing = service.list_plans(PlanQuery(offset=0, limit=2))
    assert listing.total == 4 and len(listing.views) == 2
    catalog = service.ports.catalog
    app_datasets = [e for e in catalog.entities("DATASET") if e.key.startswith("1-")]
    assert listing.total_datasets == len(app_datasets) == 2
    assert listing.total_disk_usage == sum(e.disk_usage or 0 for e in app_datasets)


def test_a_write_reads_its_dags_pause_state_once_and_parses_its_cron_once(
    service: PlanServices, dags: FakeDags, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validating, publishing and answering share one read of the pause state (none for a new plan,
    which has no DAG yet) and one parse."""
    from taskcenter.domain.cron import quartz

    quartz._parse.cache_clear()
    built: list[str] = []
    build = quartz.QuartzCron._build
    monkeypatch.setattr(
        quartz.QuartzCron, "_build", classmethod(lambda cls, text, year: built.append(text) or build(text, year))
    )
    view = service.write_plan(write_command(plan_body(planItems=[cron("0 17 9 * * ?")])), ADMIN)
    assert dags.paused_reads == 0 and built == ["0 17 9 * * ?"]
    assert view.next_start_at is not None and view.plan.enabled
    dags.paused_reads, built[:] = 0, []
    service.update_plan(view.plan.id, update_command({"planItems": [cron("0 18 9 * * ?")]}), ADMIN)
    assert dags.paused_reads == 1 and built == ["0 18 9 * * ?"]
    dags.paused_reads, built[:] = 0, []
    service.write_plan(write_command(plan_body(planItems=[cron("0 19 9 * * ?")])), ADMIN)  # replaces it
    assert dags.paused_reads == 1 and built == ["0 19 9 * * ?"]


def test_delete_names_the_plans_that_depend_on_it(service: PlanServices, session: Session) -> None:
    upstream = service.write_plan(write_command(plan_body("PIPELINE", "1")), ADMIN).plan
    depends_on = [{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}]}]
    dependent = service.write_plan(write_command(plan_body("NOTEBOOK", "2", planItems=depends_on)), ADMIN).plan
    with pytest.raises(ConflictError, match="upstream of NOTEBOOK 2"):
        service.delete_plan(upstream.id)
    session.rollback()
    service.update_plan(dependent.id, update_command({"planItems": []}), ADMIN)  # the edge goes with its item
    service.delete_plan(upstream.id)
    assert [p.id for p in stored_plans(session)] == [dependent.id]
