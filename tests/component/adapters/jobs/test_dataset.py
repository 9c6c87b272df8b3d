"""DATASET refresh and app datasets against a real engine DB: SQLite, and PostgreSQL when it answers."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from taskcenter.adapters.jobs import dataset
from taskcenter.adapters.jobs.base import sql_engine
from taskcenter.domain.catalog import Entity, app_datasets
from tests.unit.adapters.jobs.dataset_helpers import (
    dataset_job,
    orders,
    source_fixture,  # noqa: F401 - the fixture `source`
)
from tests.unit.adapters.jobs.fakes import MemoryCatalog

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_engine_db() -> Iterator[dict[str, Any]]:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"tc_engine_{uuid.uuid4().hex[:10]}"
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: the SQLite variant still runs
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432 ({exc})")
    try:
        yield {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": name}
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        conn: dict[str, Any] = {"conn_type": "sqlite", "host": str(tmp_path / "engine.db")}
        monkeypatch.setenv("AIRFLOW_CONN_TC_ENGINE", json.dumps(conn))
        yield sql_engine("tc_engine")
        return
    for conn in _postgres_engine_db():
        monkeypatch.setenv("AIRFLOW_CONN_TC_ENGINE", json.dumps(conn))
        created = sql_engine("tc_engine")
        yield created
        created.dispose()


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()


def side_by_side(work: Callable[[Any], None], items: Sequence[Any], *, together: bool = True) -> list[BaseException]:
    """Run `work(item)` for every item in a thread of its own, all released at once; the errors raised."""
    start = threading.Barrier(len(items))
    errors: list[BaseException] = []

    def one(item: Any) -> None:
        try:
            if together:
                start.wait()
            work(item)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def refreshing(times: int = 1) -> Callable[[Any], None]:
    """A worker that refreshes with one job `times` times, then closes the job."""

    def refresh(job: Any) -> None:
        try:
            for _ in range(times):
                dataset.run(job)
        finally:
            job.close()

    return refresh


def test_all_loads_every_row_and_publishes_schema_and_head(source: Path, engine: sa.Engine, tmp_path: Path) -> None:
    fake = dataset_job(MemoryCatalog(orders()), {"app": 1, "dataset": 1}, tmp=tmp_path)
    dataset.run(fake.job)
    dataset.run(fake.job)  # ALL again replaces: the same rows, not twice

    assert count(engine, "app1_orders") == 30
    assert not sa.inspect(engine).has_table("app1_orders__loading")
    key, table = fake.published[-1]
    assert key == "1-1" and [c["name"] for c in table["schema"]] == ["id", "product", "amount"]
    assert len(table["data"]) == 30 and table["data"][0][0] == 1
    assert all(sub_key == "1-1" for _, sub_key, _ in fake.log.records) and any(
        "ALL refresh" in text for text in fake.log.texts()
    )
    stats = dataset.read_stats(engine)
    assert stats["1-1"][0] == 30 and (stats["1-1"][1] or 0) > 0


def test_incremental_appends_only_rows_past_the_watermark(source: Path, engine: sa.Engine, tmp_path: Path) -> None:
    entity = orders("INCREMENTAL", watermark="id")
    fake = dataset_job(MemoryCatalog(entity), {"app": 1, "dataset": 1}, tmp=tmp_path)
    dataset.run(fake.job)
    assert count(engine, "app1_orders") == 30
    with sqlite3.connect(source) as db:
        db.execute("INSERT INTO orders VALUES (31, 1, 'dock', 10.0, '2020-05-01 00:00:00')")
        db.execute("INSERT INTO orders VALUES (32, 2, 'dock', 12.5, '2020-05-01 01:00:00')")
    dataset.run(fake.job)
    assert count(engine, "app1_orders") == 32
    assert any("INCREMENTAL past id = 30" in text for text in fake.log.texts())


def test_concurrent_incremental_refreshes_append_each_row_once(
    source: Path, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refreshes of one INCREMENTAL dataset (its plan's and its app's, say) append one after the other."""
    monkeypatch.setattr(dataset, "FETCH_BATCH", 3)
    catalog = MemoryCatalog(orders("INCREMENTAL", watermark="id"))
    first = dataset_job(catalog, {"app": 1, "dataset": 1}, tmp=tmp_path / "first")
    dataset.run(first.job)  # the first load creates the table
    with sqlite3.connect(source) as db:
        db.executemany(
            "INSERT INTO orders VALUES (?, 1, 'dock', 10.0, '2020-05-01 00:00:00')", [(i,) for i in range(31, 61)]
        )
    jobs = [dataset_job(catalog, {"app": 1, "dataset": 1}, tmp=tmp_path / str(n)).job for n in range(4)]
    assert side_by_side(refreshing(), jobs) == []
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(sa.text('SELECT id FROM "app1_orders" ORDER BY id'))]
    assert ids == list(range(1, 61))


def test_a_failed_incremental_append_leaves_the_table_as_it_was(
    source: Path, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset, "FETCH_BATCH", 5)
    fake = dataset_job(MemoryCatalog(orders("INCREMENTAL", watermark="id")), {"app": 1, "dataset": 1}, tmp=tmp_path)
    dataset.run(fake.job)
    with sqlite3.connect(source) as db:
        db.executemany(
            "INSERT INTO orders VALUES (?, 1, 'dock', 10.0, '2020-05-01 00:00:00')", [(i,) for i in range(31, 51)]
        )
    real_batches = dataset._batches

    def failing(*args: Any, **kwargs: Any) -> Any:
        for n, batch in enumerate(real_batches(*args, **kwargs)):
            if n == 2:
                raise RuntimeError("source connection lost")
            yield batch

    monkeypatch.setattr(dataset, "_batches", failing)
    with pytest.raises(RuntimeError, match="connection lost"):
        dataset.run(fake.job)
    assert count(engine, "app1_orders") == 30  # the first batches were not left behind
    monkeypatch.setattr(dataset, "_batches", real_batches)
    dataset.run(fake.job)
    assert count(engine, "app1_orders") == 50


def test_app_refresh_refreshes_its_sub_key_or_every_dataset(source: Path, engine: sa.Engine, tmp_path: Path) -> None:
    customers = Entity(
        group="DATASET",
        key="1-2",
        title="customers",
        update_method="ALL",
        definition={"source": "tc_source", "table": "app1_customers", "query": "SELECT * FROM customers"},
    )
    other_app = Entity(group="DATASET", key="10-1", title="x", definition={})
    catalog = MemoryCatalog(orders(), customers, other_app)
    fake = dataset_job(catalog, {"app": 1}, sub_key="1-2", tmp=tmp_path)
    dataset.run_app_refresh(fake.job)
    assert [key for key, _ in fake.published] == ["1-2"] and count(engine, "app1_customers") == 5

    assert [e.key for e in app_datasets(fake.job.catalog, 1)] == ["1-1", "1-2"]
    fake = dataset_job(catalog, {"app": 1}, tmp=tmp_path)
    dataset.run_app_refresh(fake.job)
    assert [key for key, _ in fake.published] == ["1-1", "1-2"]


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_concurrent_refreshes_of_one_dataset_never_mix_their_rows(
    source: Path, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ALL refresh stages in a table of its own; the swaps take turns, the last one wins whole."""
    monkeypatch.setattr(dataset, "FETCH_BATCH", 4)
    catalog = MemoryCatalog(orders())
    jobs = [dataset_job(catalog, {"app": 1, "dataset": 1}, tmp=tmp_path / str(n)).job for n in range(4)]
    assert side_by_side(refreshing(times=3), jobs) == []
    assert count(engine, "app1_orders") == 30
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(sa.text('SELECT id FROM "app1_orders" ORDER BY id'))]
    assert ids == list(range(1, 31))
    assert tables(engine) == {"app1_orders", dataset.STATS_TABLE}  # no staging table left behind


def test_side_by_side_refreshes_create_the_stats_table_once(source: Path, engine: sa.Engine, tmp_path: Path) -> None:
    """APP_REFRESH's mapped tasks on a fresh engine all try to create the stats table at once."""
    definitions = [
        dataset.DatasetDefinition.of(
            Entity(
                group="DATASET",
                key=f"1-{n}",
                title=f"part {n}",
                update_method="ALL",
                definition={"source": "tc_source", "table": f"app1_part{n}", "query": "SELECT id FROM orders"},
            )
        )
        for n in range(6)
    ]
    for definition in definitions:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE TABLE "{definition.table}" (id INTEGER)'))
    assert side_by_side(lambda definition: dataset.record_stats(engine, definition), definitions) == []
    assert set(dataset.read_stats(engine)) == {f"1-{n}" for n in range(6)}


def test_a_failed_refresh_drops_its_staging_table_and_keeps_the_old_rows(
    source: Path, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = dataset_job(MemoryCatalog(orders()), {"app": 1, "dataset": 1}, tmp=tmp_path)
    dataset.run(fake.job)
    monkeypatch.setattr(dataset, "FETCH_BATCH", 4)
    inserted: list[int] = []
    real_insert = dataset._insert

    def insert_then_fail(engine: Any, target: Any, columns: list[str], rows: list[Any]) -> None:
        real_insert(engine, target, columns, rows)
        inserted.append(len(rows))
        if len(inserted) == 2:
            raise KeyboardInterrupt("stopped mid-load")  # a BaseException, as on_kill's

    monkeypatch.setattr(dataset, "_insert", insert_then_fail)
    with pytest.raises(KeyboardInterrupt):
        dataset.run(fake.job)
    assert tables(engine) == {"app1_orders", dataset.STATS_TABLE}
    assert count(engine, "app1_orders") == 30


def test_first_loads_swapping_at_the_same_moment_both_succeed(
    source: Path, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No table yet: on PostgreSQL a rename onto the name another swap has just taken would fail."""
    catalog = MemoryCatalog(orders())
    jobs = [dataset_job(catalog, {"app": 1, "dataset": 1}, tmp=tmp_path / str(n)).job for n in range(2)]
    together = threading.Barrier(len(jobs))
    real_swap = dataset._swap

    def swap_together(engine: Any, staging: str, name: str) -> None:
        together.wait()
        real_swap(engine, staging, name)

    monkeypatch.setattr(dataset, "_swap", swap_together)
    assert side_by_side(refreshing(), jobs, together=False) == []
    assert count(engine, "app1_orders") == 30
    assert tables(engine) == {"app1_orders", dataset.STATS_TABLE}
