"""The context service's list costs on Airflow's real tables (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.runs import AirflowRuns
from taskcenter.adapters.store.cancels import CancelRepository
from taskcenter.domain.plans import PlanQuery
from taskcenter.services.contexts import ContextService
from tests.component.databases import ListEndpoints, Statements, assert_reads_do_not_grow, list_and_users_reads
from tests.unit.services.conftest import SETTINGS, FakeDags, plan_ports

pytest_plugins = ("tests.component.database_fixtures",)  # `airflow_engine`: Airflow's tables too, SQLite and PostgreSQL


PAGE = 10
LIST_QUERIES = {
    "all": PlanQuery(limit=PAGE),
    "a later page": PlanQuery(offset=PAGE, limit=PAGE),
    "entityGroup and entityKey": PlanQuery(entity_group="PIPELINE", entity_key="7", limit=PAGE),
    "q": PlanQuery(q="plan 2", limit=PAGE),
    "entityCreatedByList": PlanQuery(entity_created_by=(2,), limit=PAGE),
    "jobStatus": PlanQuery(job_statuses=("FAILED", "CANCELLED"), limit=PAGE),
}


def contexts(db: Session) -> ListEndpoints:
    service = ContextService(
        plan_ports(db, FakeDags(), runs=AirflowRuns(db), cancels=CancelRepository(db)), settings=SETTINGS
    )
    return service.list_contexts, service.users


def listing_reads(engine: sa.Engine, query: PlanQuery) -> Statements:
    """What `GET /api/contexts` and `GET /api/contexts/users` read, on Airflow's tables."""
    return list_and_users_reads(engine, query, contexts, page=PAGE)


def test_a_listing_and_its_users_read_as_much_for_300_plans_as_for_20(airflow_engine: sa.Engine) -> None:
    """O(page): the same statements whatever the number of plans and runs, no growing parameter list."""
    assert_reads_do_not_grow(airflow_engine, LIST_QUERIES, listing_reads, max_parameters=PAGE + 10)
