"""DB_BATCH_SYNC runner: full and incremental copies in batches, target creation, SQLite and PostgreSQL.

Runs the demo catalog's own DB_BATCH_SYNC 1 definition (orders incremental by id, customers full,
batches of 50) from a SQLite demo source built here, to a SQLite file and to a throw-away
PostgreSQL database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from taskcenter.adapters.jobs.base import JobDefinitionError
from taskcenter.adapters.jobs.db_sync import SyncTableError
from taskcenter.domain.catalog import Entity
from tests.unit.adapters.jobs.db_sync_helpers import (
    SOURCE,
    TARGET,
    check_demo_sync,
    rows,
    source_fixture,  # noqa: F401 - the fixture `source`
    sync,
    sync_job,
    target_fixture,  # noqa: F401 - the fixture `target`
)
from tests.unit.adapters.jobs.fakes import FakeJob, MemoryCatalog


def project(tmp_path: Path, definition: dict[str, Any], options: dict[str, str] | None = None) -> FakeJob:
    entity = Entity(
        group="DB_BATCH_SYNC", key="1", title="sync1", definition={"source": SOURCE, "target": TARGET, **definition}
    )
    return sync_job(tmp_path, MemoryCatalog(entity, folder=tmp_path), options)


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
