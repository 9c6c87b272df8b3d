"""The DB_BATCH_SYNC tests' builders, shared by the unit and the component tests: the job, the demo
SQLite source, the `source` and `target` fixtures (SQLite files) and the demo project's two-pass check.

Pure: nothing here starts a process or opens a socket. A test module takes the fixtures by importing
`source_fixture` and `target_fixture` (registered as `source` and `target`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG, FileEntityCatalog
from taskcenter.adapters.jobs.db_sync import run
from tests.unit.adapters.jobs.fakes import FakeJob, make_job

SOURCE, TARGET = "taskcenter_demo_source", "taskcenter_demo_target"
RESULT_COLUMNS = ["table", "mode", "rowsCopied", "targetRows", "batches"]


def sync_job(tmp_path: Path, catalog: Any, options: dict[str, str] | None = None) -> FakeJob:
    return make_job(
        job_class="com.hengshi.nangaparbat.schedulejob.DBBatchSyncJob",
        job_params={"syncProj": 1},
        entity_group="DB_BATCH_SYNC",
        entity_key="1",
        catalog=catalog,
        work_folder=tmp_path / "work",
        plan_id=3,
        options=options,
    )


def sync(harness: FakeJob) -> dict[str, dict[str, Any]]:
    """Runs the job: the published result rows by table, in publication order."""
    harness.published.clear()
    run(harness.job)
    for _, value in harness.published:
        assert [c["name"] for c in value["schema"]] == RESULT_COLUMNS
    return {key: dict(zip(RESULT_COLUMNS, value["data"][0], strict=False)) for key, value in harness.published}


def add_orders(path: Path, ids: range) -> None:
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
            [(i, i % 10 + 1, f"product {i % 7}", round(i * 1.5, 2), f"2024-02-{i % 28 + 1:02d} 10:00:00") for i in ids],
        )
    db.close()


def make_source(path: Path, *, orders: int = 120, customers: int = 10) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, product TEXT, amount REAL, "
            "ordered_at TEXT)"
        )
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
        db.executemany(
            "INSERT INTO customers VALUES (?, ?, ?)",
            [(i, f"customer {i}", f"city {i % 3}") for i in range(1, customers + 1)],
        )
    db.close()
    add_orders(path, range(1, orders + 1))


def rows(engine: sa.Engine, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]


def sqlite_conn(path: Path) -> str:
    return json.dumps({"conn_type": "sqlite", "host": str(path)})


@pytest.fixture(name="source")
def source_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "source.db"
    make_source(path)
    monkeypatch.setenv("AIRFLOW_CONN_TASKCENTER_DEMO_SOURCE", sqlite_conn(path))
    return path


@pytest.fixture(name="target")
def target_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    path = tmp_path / "target.db"
    monkeypatch.setenv("AIRFLOW_CONN_TASKCENTER_DEMO_TARGET", sqlite_conn(path))
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def check_demo_sync(tmp_path: Path, source: Path, target: sa.Engine) -> None:
    """The demo project twice: everything first, then only the orders appended in between."""
    harness = sync_job(tmp_path, FileEntityCatalog(DEMO_CATALOG))
    first = sync(harness)
    assert list(first) == ["orders", "customers"]
    assert first["orders"] == {
        "table": "orders",
        "mode": "incremental",
        "rowsCopied": 120,
        "targetRows": 120,
        "batches": 3,
    }
    assert first["customers"] == {
        "table": "customers",
        "mode": "full",
        "rowsCopied": 10,
        "targetRows": 10,
        "batches": 1,
    }
    source_engine = sa.create_engine(f"sqlite:///{source}")
    assert rows(target, "orders") == rows(source_engine, "orders")
    assert rows(target, "customers") == rows(source_engine, "customers")
    orders = sa.inspect(target)
    assert [c["name"] for c in orders.get_columns("orders")] == ["id", "customer_id", "product", "amount", "ordered_at"]
    assert orders.get_pk_constraint("orders")["constrained_columns"] == ["id"]
    assert orders.get_pk_constraint("customers")["constrained_columns"] == ["id"]
    lines = harness.log.lines("orders")
    assert "orders: batch 3, 120 rows copied so far" in lines
    assert lines[-1] == "orders: done, 120 rows copied in 3 batch(es), 120 rows in the target"
    assert any("created the target table" in line for line in lines)

    add_orders(source, range(121, 151))
    with sqlite3.connect(source) as db:
        db.execute("UPDATE customers SET city = 'moved' WHERE id = 4")
        db.execute("DELETE FROM customers WHERE id = 10")
    db.close()
    second = sync(harness)
    assert second["orders"] == {
        "table": "orders",
        "mode": "incremental",
        "rowsCopied": 30,
        "targetRows": 150,
        "batches": 1,
    }
    assert second["customers"] == {"table": "customers", "mode": "full", "rowsCopied": 9, "targetRows": 9, "batches": 1}
    assert rows(target, "orders") == rows(source_engine, "orders")
    assert rows(target, "customers") == rows(source_engine, "customers")
    assert (
        "orders: incremental copy from taskcenter_demo_source to taskcenter_demo_target (id > 120), batches of 50"
        in harness.log.lines("orders")
    )
    source_engine.dispose()
