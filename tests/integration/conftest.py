"""Session fixtures: one running taskcenter per database backend for the whole test run.

`taskcenter` is parametrized over SQLite and PostgreSQL (the embedded server that `make run` starts,
with the dataset engine in it too); pytest runs every test of one backend before starting the next,
and tears the first down before, so only one Airflow runs at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import RunningTaskCenter, delete_all_plans, start_taskcenter


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def taskcenter(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningTaskCenter]:
    backend: str = request.param
    running = start_taskcenter(backend=backend, home=tmp_path_factory.mktemp(f"airflow-{backend}"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def tc(taskcenter: RunningTaskCenter) -> Iterator[RunningTaskCenter]:
    """The running product, with no plan before or after the test (tests stay order-independent)."""
    delete_all_plans(taskcenter)
    yield taskcenter
    delete_all_plans(taskcenter)
