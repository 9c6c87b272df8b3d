"""DB_BATCH_SYNC runner: full and incremental copies in batches, target creation, SQLite and PostgreSQL.

Runs the demo catalog's own DB_BATCH_SYNC 1 definition (orders incremental by id, customers full,
batches of 50) from a SQLite demo source built here, to a SQLite file and to a throw-away
PostgreSQL database.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.unit.adapters.jobs.db_sync_helpers import (
    check_demo_sync,
    source_fixture,  # noqa: F401 - the fixture `source`
)


@pytest.fixture
def postgres_target(monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """A fresh PostgreSQL database as the demo target, dropped afterwards."""
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no PostgreSQL answers at 127.0.0.1:5432 as user postgres: {exc.orig}")
    name = f"taskcenter_sync_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    conn_spec = {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": name}
    monkeypatch.setenv("AIRFLOW_CONN_TASKCENTER_DEMO_TARGET", json.dumps(conn_spec))
    engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def test_demo_project_sqlite_to_postgresql(tmp_path: Path, source: Path, postgres_target: sa.Engine) -> None:
    check_demo_sync(tmp_path, source, postgres_target)
    columns = {c["name"]: c["type"] for c in sa.inspect(postgres_target).get_columns("orders")}
    assert isinstance(columns["id"], sa.Integer) and isinstance(columns["amount"], sa.Float)
    assert isinstance(columns["product"], sa.Text) and isinstance(columns["ordered_at"], sa.Text)
    with postgres_target.connect() as conn:  # the copied ids are plain values, not a sequence's
        assert (
            conn.exec_driver_sql(
                "SELECT column_default FROM information_schema.columns WHERE table_name = 'orders' AND "
                "column_name = 'id'"
            ).scalar()
            is None
        )
