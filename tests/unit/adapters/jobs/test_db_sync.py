"""DB_BATCH_SYNC runner: full and incremental copies in batches, target creation, SQLite and PostgreSQL.

Runs the demo catalog's own DB_BATCH_SYNC 1 definition (orders incremental by id, customers full,
batches of 50) from a SQLite demo source built here, to a SQLite file and to a throw-away
PostgreSQL database.
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
from taskcenter.adapters.jobs.base import JobDefinitionError
from taskcenter.adapters.jobs.db_sync import SyncTableError, run
from taskcenter.domain.catalog import Entity
from tests.unit.adapters.jobs.fakes import FakeJob, MemoryCatalog, make_job

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


def project(tmp_path: Path, definition: dict[str, Any], options: dict[str, str] | None = None) -> FakeJob:
    entity = Entity(
        group="DB_BATCH_SYNC", key="1", title="sync1", definition={"source": SOURCE, "target": TARGET, **definition}
    )
    return sync_job(tmp_path, MemoryCatalog(entity, folder=tmp_path), options)


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


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "source.db"
    make_source(path)
    monkeypatch.setenv("AIRFLOW_CONN_TASKCENTER_DEMO_SOURCE", sqlite_conn(path))
    return path


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
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


def test_demo_project_sqlite_to_sqlite_full_and_incremental(tmp_path: Path, source: Path, target: sa.Engine) -> None:
    check_demo_sync(tmp_path, source, target)


@pytest.mark.parametrize(("batch_size", "batches"), [(1, 25), (7, 4), (25, 1), (26, 1), (24, 2)])
def test_batch_count_follows_batch_size(
    tmp_path: Path, source: Path, target: sa.Engine, batch_size: int, batches: int
) -> None:
    with sqlite3.connect(source) as db:
        db.execute("DELETE FROM orders WHERE id > 25")
    db.close()
    result = sync(project(tmp_path, {"batchSize": batch_size, "tables": [{"name": "orders"}]}))
    assert result["orders"]["batches"] == batches and result["orders"]["rowsCopied"] == 25


def test_batch_size_defaults_to_the_sync_batch_size_option(tmp_path: Path, source: Path, target: sa.Engine) -> None:
    assert sync(project(tmp_path, {"tables": ["orders"]}, {"sync_batch_size": "40"}))["orders"]["batches"] == 3
    assert sync(project(tmp_path, {"tables": ["orders"]}))["orders"]["batches"] == 1  # default 1000


def test_empty_source_table_copies_nothing(tmp_path: Path, source: Path, target: sa.Engine) -> None:
    with sqlite3.connect(source) as db:
        db.execute("DELETE FROM orders")
    db.close()
    result = sync(project(tmp_path, {"tables": [{"name": "orders", "key": "id", "incremental": True}]}))
    assert result["orders"] == {
        "table": "orders",
        "mode": "incremental",
        "rowsCopied": 0,
        "targetRows": 0,
        "batches": 0,
    }


def test_full_copy_replaces_the_target_rows_atomically(tmp_path: Path, source: Path, target: sa.Engine) -> None:
    with target.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT)")
        conn.exec_driver_sql("INSERT INTO customers VALUES (99, 'stale', 'gone')")
    harness = project(tmp_path, {"batchSize": 4, "tables": ["customers"]})
    assert sync(harness)["customers"]["targetRows"] == 10
    assert [r[0] for r in rows(target, "customers")] == list(range(1, 11))

    # A NULL name breaks the third batch: the delete and the first two batches are rolled back.
    with sqlite3.connect(source) as db:
        db.execute("UPDATE customers SET name = NULL WHERE id = 9")
        db.execute("UPDATE customers SET city = 'changed'")
    db.close()
    with pytest.raises(SyncTableError, match="sync project 1 table customers failed: IntegrityError"):
        sync(harness)
    assert len(rows(target, "customers")) == 10 and "changed" not in {r[2] for r in rows(target, "customers")}
    assert harness.log.lines("customers")[-1].startswith("customers: failed: IntegrityError")
    assert "customers: batch 2, 8 rows copied so far" in harness.log.lines("customers")


def test_unknown_source_table_fails_before_anything_is_copied(tmp_path: Path, source: Path, target: sa.Engine) -> None:
    harness = project(tmp_path, {"tables": ["orders", "no_such_table"]})
    with pytest.raises(JobDefinitionError, match="has no table 'no_such_table'"):
        sync(harness)
    assert harness.published == [] and not sa.inspect(target).has_table("orders")


def test_target_missing_a_source_column_is_a_definition_error(tmp_path: Path, source: Path, target: sa.Engine) -> None:
    with target.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(SyncTableError, match="lacks source column"):
        sync(project(tmp_path, {"tables": ["customers"]}))


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"tables": [{"name": "orders", "incremental": True}]}, "needs a 'key'"),
        (
            {"tables": [{"name": "orders", "key": "no_such_column", "incremental": True}]},
            "no key column 'no_such_column'",
        ),
        ({"tables": [{"name": "orders", "increment": True}]}, "unknown field"),
        ({"tables": [{"name": "orders", "key": "id", "incremental": "yes"}]}, "true or false"),
        ({"tables": ["orders", "orders"]}, "listed twice: orders"),
        ({"tables": []}, "non-empty list"),
        ({"batchSize": 0, "tables": ["orders"]}, "positive integer"),
        ({"batchSize": "50", "tables": ["orders"]}, "positive integer"),
        ({"target": "", "tables": ["orders"]}, "'target'"),
        ({"target": "no_such_conn", "tables": ["orders"]}, "no_such_conn"),
        ({"schedule": "daily", "tables": ["orders"]}, "unknown field"),
    ],
)
def test_bad_definitions_fail_before_work_starts(
    tmp_path: Path, source: Path, target: sa.Engine, definition: dict[str, Any], message: str
) -> None:
    harness = project(tmp_path, definition)
    with pytest.raises(JobDefinitionError, match=message):
        sync(harness)
    assert harness.published == [] and harness.log.records == []


def test_bad_batch_size_option_is_a_definition_error(tmp_path: Path, source: Path, target: sa.Engine) -> None:
    with pytest.raises(JobDefinitionError, match="sync_batch_size"):
        sync(project(tmp_path, {"tables": ["orders"]}, {"sync_batch_size": "lots"}))
