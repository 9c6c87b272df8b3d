"""AirflowRuns on Airflow's `dag_run` table beside taskcenter's, on SQLite and PostgreSQL.

A page of runs costs O(page): as many statements for 300 plans (about 450 runs) as for 20, none
with a parameter list that grows with them; and it lists what the context views show.
"""

from __future__ import annotations

import sqlalchemy as sa

from taskcenter.adapters.airflow.runs import AirflowRuns
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.plans import PlanQuery
from taskcenter.domain.runs import JobStatus, job_status
from tests.component.databases import Statements, add_plans_with_runs, assert_reads_do_not_grow, session_for, statements

pytest_plugins = ("tests.component.database_fixtures",)  # `airflow_engine`: SQLite and PostgreSQL

PAGE = 10
RUN_QUERIES = {
    "all": PlanQuery(limit=PAGE),
    "a later page": PlanQuery(offset=PAGE, limit=PAGE),
    "entityGroup and entityKey": PlanQuery(entity_group="APP_REFRESH", entity_key="6", limit=PAGE),
    "q": PlanQuery(q="PLAN 2", limit=PAGE),
    "entityCreatedByList": PlanQuery(entity_created_by=(2, 3), limit=PAGE),
    "jobStatus": PlanQuery(job_statuses=("FAILED", "CANCELLED"), limit=PAGE),
    "every filter": PlanQuery(
        q="plan", entity_group="NOTEBOOK", entity_created_by=(1,), job_statuses=("RUNNING",), limit=PAGE
    ),
}


def page_reads(engine: sa.Engine, query: PlanQuery) -> Statements:
    with session_for(engine) as db, statements(engine) as seen:
        AirflowRuns(db).page(query=query)
    return seen


def test_a_page_of_runs_reads_as_much_for_300_plans_as_for_20(airflow_engine: sa.Engine) -> None:
    assert_reads_do_not_grow(
        airflow_engine, RUN_QUERIES, page_reads, max_parameters=8, statements_each=2
    )  # the count and the page


def test_a_page_of_runs_is_newest_first_and_filters_as_the_views_show_the_runs(airflow_engine: sa.Engine) -> None:
    with session_for(airflow_engine) as db:
        runs = add_plans_with_runs(db, first=0, count=40)
        db.commit()
    newest_first = sorted(runs, key=lambda r: -r.id)
    status = {r.id: job_status(r.state, cancelled=r.cancelled).value for r in runs}
    with session_for(airflow_engine) as db:
        queries = AirflowRuns(db)
        # Only runs of plans: a hand-written DAG's runs are not contexts.
        total, page = queries.page(query=PlanQuery(limit=1000))
        assert total == len(runs) and [r.id for r in page] == [r.id for r in newest_first]
        total, page = queries.page(query=PlanQuery(offset=3, limit=4))
        assert total == len(runs) and [r.id for r in page] == [r.id for r in newest_first[3:7]]
        assert {r.plan_id for r in page} == {r.plan_id for r in newest_first[3:7]}
        for wanted in JobStatus:
            total, page = queries.page(query=PlanQuery(job_statuses=(wanted.value,), limit=1000))
            assert [r.id for r in page] == [r.id for r in newest_first if status[r.id] == wanted.value], wanted
            assert total == len(page)
        assert {"SUCCESSFUL", "FAILED", "CANCELLED", "RUNNING", "PENDING"} <= set(status.values())
        # The plan filters, as the plan listing applies them.
        plans = {p.id: p for p in PlanRepository(db).all()}
        total, page = queries.page(query=PlanQuery(q="PLAN 3", entity_created_by=(1,), limit=1000))
        expected = [
            r.id
            for r in newest_first
            if "plan 3" in (plans[r.plan_id].title or "").lower() and plans[r.plan_id].entity_created_by == 1
        ]
        assert expected and [r.id for r in page] == expected and total == len(expected)
