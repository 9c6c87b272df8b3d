"""The `engine` fixture: taskcenter's tables on SQLite and on PostgreSQL (see tests.component.databases).

Used through `pytest_plugins = ("tests.component.database_fixtures",)` in a test module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.store.models import Base, LockRow
from taskcenter.adapters.store.plans import PLAN_GRAPH_LOCK
from tests.component.databases import sqlite_engine

POSTGRES_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh database on the local PostgreSQL server for this test session (None: no server)."""
    name = f"taskcenter_unit_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        POSTGRES_SERVER + "postgres", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield POSTGRES_SERVER + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> sa.Engine:
    if request.param == "sqlite":
        return sqlite_engine(tmp_path / "airflow.db")
    url = request.getfixturevalue("postgres_database")
    if url is None:
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 as user postgres")
    return sa.create_engine(url, pool_size=10)


def _taskcenter_tables(engine: sa.Engine) -> None:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add(LockRow(name=PLAN_GRAPH_LOCK, revision=0))
        db.commit()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """taskcenter's tables, empty but for the graph lock, on each backend."""
    created = _backend(request, tmp_path)
    _taskcenter_tables(created)
    try:
        yield created
    finally:
        created.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def airflow_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """Airflow's metadata tables (`dag_run`, `dag`, ...) with taskcenter's beside them, all empty
    but for the graph lock, on each backend: for the queries that join the two."""
    from airflow.models import import_all_models
    from airflow.models.base import Base as AirflowBase

    import_all_models()
    created = _backend(request, tmp_path)
    AirflowBase.metadata.drop_all(created)
    AirflowBase.metadata.create_all(created)
    _taskcenter_tables(created)
    try:
        yield created
    finally:
        created.dispose()
