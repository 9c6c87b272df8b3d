"""The `engine` fixture: taskcenter's tables on SQLite and on PostgreSQL (see tests.unit.databases).

Used through `pytest_plugins = ("tests.unit.database_fixtures",)` in a test module.
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
from tests.unit.databases import sqlite_engine

POSTGRES_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh database on the local PostgreSQL server for this test session (None: no server)."""
    name = f"taskcenter_unit_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_SERVER + "postgres", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
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


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """taskcenter's tables, empty but for the graph lock, on each backend."""
    if request.param == "sqlite":
        created = sqlite_engine(tmp_path / "airflow.db")
    else:
        url = request.getfixturevalue("postgres_database")
        if url is None:
            pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 as user postgres")
        created = sa.create_engine(url, pool_size=10)
    Base.metadata.drop_all(created)
    Base.metadata.create_all(created)
    with Session(created) as db:
        db.add(LockRow(name=PLAN_GRAPH_LOCK, revision=0))
        db.commit()
    try:
        yield created
    finally:
        created.dispose()
