"""Session fixtures: one running taskcenter per database backend for the whole test run.

`taskcenter` is parametrized over SQLite and PostgreSQL (the embedded server that `make run` starts,
with the dataset engine in it too); pytest runs every test of one backend before starting the next,
and tears the first down before, so only one Airflow runs at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import RunningTaskCenter, delete_all_plans, start_taskcenter


def _new_home(prefix: str) -> Path:
    """A home outside pytest's temp root: pytest makes that folder private (0700) at every session
    start, which would cut the embedded PostgreSQL server (its own user) off from its data."""
    return Path(tempfile.mkdtemp(prefix=f"taskcenter-test-{prefix}-"))


@pytest.fixture
def home_dir() -> Iterator[Path]:
    """A folder for a test's own AIRFLOW_HOME, removed afterwards."""
    folder = _new_home("home")
    yield folder
    if not os.environ.get("TASKCENTER_KEEP_TEST_HOMES"):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def taskcenter(request: pytest.FixtureRequest) -> Iterator[RunningTaskCenter]:
    backend: str = request.param
    home = _new_home(backend)
    try:
        running = start_taskcenter(backend=backend, home=home)
        try:
            yield running
        finally:
            running.stop()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def tc(taskcenter: RunningTaskCenter) -> Iterator[RunningTaskCenter]:
    """The running product, with no plan before or after the test (tests stay order-independent)."""
    delete_all_plans(taskcenter)
    yield taskcenter
    delete_all_plans(taskcenter)
