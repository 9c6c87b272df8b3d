"""Session fixtures: one running taskcenter per database backend for the whole test run.

`taskcenter` is parametrized over SQLite and PostgreSQL; pytest runs every test of one backend
before starting the next, and tears the first down before, so only one Airflow runs at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import (
    PostgresDatabase,
    delete_all_plans,
    RunningTaskCenter,
    create_postgres_database,
    drop_postgres_database,
    start_taskcenter,
)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def taskcenter(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningTaskCenter]:
    backend: str = request.param
    database: PostgresDatabase | None = None
    db_url = None
    if backend == "postgres":
        created = create_postgres_database()
        if isinstance(created, str):
            pytest.skip(created)
        database = created
        db_url = database.url
    try:
        running = start_taskcenter(backend=backend, home=tmp_path_factory.mktemp(f"airflow-{backend}"), db_url=db_url)
        try:
            yield running
        finally:
            running.stack.stop()
    finally:
        if database is not None:
            drop_postgres_database(database)


@pytest.fixture
def tc(taskcenter: RunningTaskCenter) -> Iterator[RunningTaskCenter]:
    """The running product, with no plan before or after the test (tests stay order-independent)."""
    delete_all_plans(taskcenter)
    yield taskcenter
    delete_all_plans(taskcenter)
