"""The plan services' list costs on Airflow's real tables (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.plan_dags import AirflowPlanDags
from taskcenter.adapters.airflow.runs import AirflowRuns
from taskcenter.adapters.store.cancels import CancelRepository
from taskcenter.domain.plans import PlanQuery
from tests.component.databases import ListEndpoints, Statements, assert_reads_do_not_grow, list_and_users_reads
from tests.unit.services.conftest import PlanServices, plan_ports

pytest_plugins = ("tests.component.database_fixtures",)  # `airflow_engine`: Airflow's tables too, SQLite and PostgreSQL


PAGE = 10
LIST_QUERIES = {
    "all": PlanQuery(limit=PAGE),
    "a later page": PlanQuery(offset=PAGE, limit=PAGE),
    "entityGroup": PlanQuery(entity_group="DATASET", limit=PAGE),
    "q": PlanQuery(q="plan 1", limit=PAGE),
    "entityCreatedByList": PlanQuery(entity_created_by=(1, 3), limit=PAGE),
    "jobStatusList": PlanQuery(job_statuses=("SUCCESSFUL", "CANCELLED", "NONE"), limit=PAGE),
}


def schedules(db: Session) -> ListEndpoints:
    dags = AirflowPlanDags(db, None)  # type: ignore[arg-type] - a listing writes no DAG file
    service = PlanServices(plan_ports(db, dags, runs=AirflowRuns(db), cancels=CancelRepository(db)))  # type: ignore[arg-type]
    return service.list_plans, service.users


def listing_reads(engine: sa.Engine, query: PlanQuery) -> Statements:
    """What `GET /api/schedules` and `GET /api/schedules/users` read, on Airflow's tables."""
    return list_and_users_reads(engine, query, schedules, page=PAGE)


def test_a_listing_and_its_users_read_as_much_for_300_plans_as_for_20(airflow_engine: sa.Engine) -> None:
    """O(page): the same statements whatever the number of plans and runs, no growing parameter list."""
    assert_reads_do_not_grow(airflow_engine, LIST_QUERIES, listing_reads, max_parameters=PAGE + 10)
