"""PlanRepository on SQLite and PostgreSQL: what a write meets when another request wrote first,
and what the lists cost.

Every outcome of a write is a plan or a domain error (ConflictError: retry; NotFoundError: gone),
never a database exception, and a transaction that rolls back leaves nothing behind. Every list
costs O(page): as many statements for 300 plans as for 20, none with more parameters than a page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.naming import dag_id_for
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.catalog import DATASET_COVERING_GROUPS
from taskcenter.domain.errors import ConflictError, NotFoundError
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan, PlanQuery
from taskcenter.domain.runs import JobStatus, job_status
from tests.component.databases import (
    RunRow,
    Statements,
    add_plans_with_runs,
    assert_reads_do_not_grow,
    kinds,
    pause_after,
    session_for,
    side_by_side,
    statements,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
REF = EntityRef(entity_group="NOTEBOOK", entity_key="1")
DETAIL = ExecDetail(
    job_class="com.hengshi.nangaparbat.schedulejob.NotebookJob", job_params={"notebook": 1}, retry_times=0
)

pytest_plugins = ("tests.component.database_fixtures",)  # `engine`: SQLite and PostgreSQL


def create(db: Session, ref: EntityRef = REF) -> Plan | None:
    return PlanRepository(db).create(
        ref=ref, exec_detail=DETAIL, enabled=True, items=(), title="notebook1", entity_created_by=1, user_id=1, now=NOW
    )


def plan_count(engine: sa.Engine) -> int:
    with session_for(engine) as db:
        return len(PlanRepository(db).all())


@pytest.fixture
def plan_id(engine: sa.Engine) -> int:
    with session_for(engine) as db:
        plan = create(db)
        db.commit()
    assert plan is not None
    return plan.id


def before_first_write(db: Session, action: Callable[[], Any]) -> None:
    """Run `action` (another request's committed write) just before this session's first write."""
    done: list[bool] = []

    def once(*_: Any) -> None:
        if not done:
            done.append(True)
            action()

    sa.event.listen(db, "before_flush", once)
    sa.event.listen(
        db, "do_orm_execute", lambda state: once() if state.is_insert or state.is_update or state.is_delete else None
    )


def other_request(engine: sa.Engine, work: Callable[[PlanRepository], Any]) -> Callable[[], None]:
    def run() -> None:
        with session_for(engine) as db:
            work(PlanRepository(db))
            db.commit()

    return run


def test_two_creates_of_one_entity_at_once_make_one_plan(engine: sa.Engine) -> None:
    looked = threading.Barrier(2, timeout=30)

    def attempt(_: int) -> Plan | None:
        with session_for(engine) as db:
            store = PlanRepository(db)
            pause_after(store, "get_by_entity", looked)
            assert store.get_by_entity(REF) is None  # both see no plan, as the service does
            plan = create(db)
            db.commit()
            return plan

    results, errors = side_by_side(attempt)
    assert errors == []
    assert sorted(r is None for r in results) == [False, True]  # the loser learns it lost: None
    assert plan_count(engine) == 1


def test_a_create_rolled_back_stores_nothing(engine: sa.Engine) -> None:
    """On SQLite too: pysqlite's SAVEPOINT must not start (and its RELEASE commit) the transaction."""
    with session_for(engine) as db:
        assert create(db) is not None
        db.rollback()
    assert plan_count(engine) == 0


def test_an_update_of_a_plan_deleted_meanwhile_is_not_found(engine: sa.Engine, plan_id: int) -> None:
    with session_for(engine) as db:
        store = PlanRepository(db)
        assert store.get(plan_id) is not None
        other_request(engine, lambda s: s.delete(plan_id))()
        with pytest.raises(NotFoundError, match=rf"\b{plan_id}\b"):
            store.update(plan_id, enabled=False, user_id=1, now=NOW)
        db.rollback()
        with pytest.raises(NotFoundError):
            store.add_once_item(plan_id, user_id=1, now=NOW)


WRITES = {
    "update": lambda s, i: s.update(i, title="renamed", user_id=1, now=NOW),
    "run-now": lambda s, i: s.add_once_item(i, user_id=1, now=NOW),
    "delete": lambda s, i: s.delete(i),
}
OTHERS = {
    "changed": (lambda s, i: s.update(i, enabled=False, user_id=2, now=NOW), ConflictError),  # read it again
    "deleted": (lambda s, i: s.delete(i), NotFoundError),  # gone
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("other", OTHERS)
def test_a_write_that_meets_another_requests_write_is_a_domain_error(
    engine: sa.Engine, plan_id: int, write: str, other: str
) -> None:
    """The other request commits between this one's read and its first write."""
    change, expected = OTHERS[other]
    with session_for(engine) as db:
        store = PlanRepository(db)
        assert store.get(plan_id) is not None
        before_first_write(db, other_request(engine, lambda s: change(s, plan_id)))
        with pytest.raises(expected, match=rf"\b{plan_id}\b"):
            WRITES[write](store, plan_id)


def test_two_deletes_at_once_delete_once(engine: sa.Engine, plan_id: int) -> None:
    read = threading.Barrier(2, timeout=30)

    def delete(_: int) -> bool:
        with session_for(engine) as db:
            store = PlanRepository(db)
            pause_after(store, "get", read)
            assert store.get(plan_id) is not None
            deleted = store.delete(plan_id)
            db.commit()
            return deleted

    results, errors = side_by_side(delete)
    assert sorted(results) + kinds(errors) in ([False, True], [True, "NotFoundError"])
    assert plan_count(engine) == 0


def test_a_write_that_changes_nothing_still_fails_after_another_requests_change(
    engine: sa.Engine, plan_id: int
) -> None:
    """A no-change enable must not go on (and unpause the DAG) after a concurrent disable committed."""
    with session_for(engine) as db:
        store = PlanRepository(db)
        assert store.get(plan_id).enabled  # read at the revision before the disable

        def disable() -> None:
            with session_for(engine) as other:
                PlanRepository(other).update(plan_id, enabled=False, user_id=2, now=NOW)
                other.commit()

        before_first_write(db, disable)
        with pytest.raises(ConflictError):
            store.update(plan_id, enabled=True, user_id=1, now=NOW)
    with session_for(engine) as db:
        assert PlanRepository(db).get(plan_id).enabled is False


def test_a_write_that_changes_nothing_keeps_the_revision(engine: sa.Engine, plan_id: int) -> None:
    with session_for(engine) as db:
        before = PlanRepository(db).get(plan_id)
        after = PlanRepository(db).update(plan_id, enabled=True, user_id=2, now=NOW)
        db.commit()
    assert after.updated_at == before.updated_at and after.updated_by == before.updated_by


# -- lists ---------------------------------------------------------------------------------------

# What one list request may bind: a page's ids (the page's triggers) and a few filter values.
PAGE = 10
MOST_PARAMETERS = PAGE + 10
LIST_QUERIES = {
    "all": PlanQuery(limit=PAGE),
    "a later page": PlanQuery(offset=PAGE, limit=PAGE),
    "entityGroup and entityKey": PlanQuery(entity_group="NOTEBOOK", entity_key="4", limit=PAGE),
    "q": PlanQuery(q="plan 1", limit=PAGE),
    "entityCreatedByList": PlanQuery(entity_created_by=(1, 3), limit=PAGE),
    "jobStatusList": PlanQuery(job_statuses=("RUNNING", "CANCELLED", "NONE"), limit=PAGE),
    "every filter": PlanQuery(
        q="plan", entity_group="DATASET", entity_created_by=(2,), job_statuses=("FAILED", "PENDING"), limit=PAGE
    ),
    "the plans a caller may read": PlanQuery(plan_ids=frozenset({1, 4, 7, 12}), limit=PAGE),
    "no plan a caller may read": PlanQuery(plan_ids=frozenset(), limit=PAGE),
}


def list_reads(engine: sa.Engine, query: PlanQuery) -> Statements:
    """What a plan listing and both /users endpoints read from the store for `query`."""
    with session_for(engine) as db, statements(engine) as seen:
        store = PlanRepository(db)
        store.totals(query, groups=DATASET_COVERING_GROUPS)
        store.page(query)
        store.entity_creators(query)
        store.entity_creators(query, by_runs=True)
    return seen


def test_every_list_reads_as_much_for_300_plans_as_for_20(airflow_engine: sa.Engine) -> None:
    assert_reads_do_not_grow(airflow_engine, LIST_QUERIES, list_reads, max_parameters=MOST_PARAMETERS)


def latest_statuses(runs: list[RunRow], plan_ids: list[int]) -> dict[int, str]:
    """Each plan's job status as the plan views show it: its newest run's, NONE without one."""
    newest: dict[int, RunRow] = {}
    for run in runs:
        if run.plan_id not in newest or run.id > newest[run.plan_id].id:
            newest[run.plan_id] = run
    return {
        i: job_status(newest[i].state, cancelled=newest[i].cancelled).value if i in newest else JobStatus.NONE.value
        for i in plan_ids
    }


def test_plan_lists_filter_and_count_as_the_views_show_the_plans(airflow_engine: sa.Engine) -> None:
    with session_for(airflow_engine) as db:
        runs = add_plans_with_runs(db, first=0, count=40)
        db.commit()
    with session_for(airflow_engine) as db:
        store = PlanRepository(db)
        everything = store.all()
        ids = [p.id for p in everything]
        statuses = latest_statuses(runs, ids)
        assert set(statuses.values()) == {s.value for s in JobStatus}  # every status is exercised
        for status in JobStatus:
            query = PlanQuery(job_statuses=(status.value,), limit=1000)
            page = store.page(query)
            assert [p.id for p in page] == [i for i in ids if statuses[i] == status.value], status
            total, refs = store.totals(query, groups=DATASET_COVERING_GROUPS)
            assert total == len(page) and sorted(refs, key=repr) == sorted(
                (p.ref for p in page if p.entity_group in ("DATASET", "APP_REFRESH")), key=repr
            )
        query = PlanQuery(job_statuses=("FAILED", "NONE"), offset=2, limit=3)
        wanted = [i for i in ids if statuses[i] in ("FAILED", "NONE")]
        assert store.totals(query, groups=())[0] == len(wanted) and [p.id for p in store.page(query)] == wanted[2:5]
        assert [p.items for p in store.page(query)] == [()] * 3

        by_creator = store.page(PlanQuery(entity_created_by=(2,), q="PLAN 1", limit=1000))
        assert [p.title for p in by_creator] == [
            p.title for p in everything if p.entity_created_by == 2 and "plan 1" in p.title.lower()
        ]
        total, datasets = store.totals(PlanQuery(), groups=DATASET_COVERING_GROUPS)
        assert total == len(everything)
        assert sorted(datasets, key=repr) == sorted(
            (p.ref for p in everything if p.entity_group in ("DATASET", "APP_REFRESH")), key=repr
        )
        # Creators once each, in the order of their first plan; by runs: plans with such a run.
        assert store.entity_creators(PlanQuery(entity_group="DATASET")) == [2, 3, 1]
        failed_by = {
            p.entity_created_by
            for p in everything
            for r in runs
            if r.plan_id == p.id and r.state == "failed" and not r.cancelled
        }
        assert sorted(store.entity_creators(PlanQuery(job_statuses=("FAILED",)), by_runs=True)) == sorted(failed_by)
        assert store.entity_creators(PlanQuery(entity_key="0"), by_runs=True) == []  # plan 0 has no run


def test_a_new_plan_names_its_dag_without_a_new_revision(engine: sa.Engine) -> None:
    with session_for(engine) as db:
        plan = create(db)
        db.commit()
    assert plan is not None
    with session_for(engine) as db:
        row = db.execute(sa.text("SELECT dag_id, revision FROM taskcenter_plan WHERE id = :id"), {"id": plan.id}).one()
    assert tuple(row) == (dag_id_for(plan.id), 1)


def test_lists_show_only_the_plans_a_caller_may_read(airflow_engine: sa.Engine) -> None:
    with session_for(airflow_engine) as db:
        add_plans_with_runs(db, first=0, count=12)
        db.commit()
    with session_for(airflow_engine) as db:
        store = PlanRepository(db)
        everything = store.all()
        readable = frozenset(p.id for p in everything[::3])
        query = PlanQuery(plan_ids=readable, limit=1000)
        assert [p.id for p in store.page(query)] == sorted(readable)
        assert store.totals(query, groups=DATASET_COVERING_GROUPS)[0] == len(readable)
        creators = {p.entity_created_by for p in everything if p.id in readable and p.entity_created_by is not None}
        assert set(store.entity_creators(query)) == creators
        assert set(store.entity_creators(query, by_runs=True)) <= creators
        assert [p.id for p in store.page(PlanQuery(plan_ids=readable, entity_group="DATASET", limit=1000))] == [
            p.id for p in everything if p.id in readable and p.entity_group == "DATASET"
        ]
        nothing = PlanQuery(plan_ids=frozenset(), limit=1000)
        assert store.page(nothing) == [] and store.totals(nothing, groups=DATASET_COVERING_GROUPS) == (0, [])
        assert store.entity_creators(nothing) == [] and store.entity_creators(nothing, by_runs=True) == []
        assert len(store.page(PlanQuery(limit=1000))) == len(everything)  # None: every plan
