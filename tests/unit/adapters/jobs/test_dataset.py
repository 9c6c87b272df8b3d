"""DATASET refresh and app datasets against a real engine DB: SQLite, and PostgreSQL when it answers."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from taskcenter.adapters.catalog.engine_stats import EngineStatsCatalog
from taskcenter.adapters.jobs import dataset
from taskcenter.adapters.jobs.base import JobDefinitionError
from taskcenter.domain.catalog import Entity
from tests.unit.adapters.jobs.dataset_helpers import (
    dataset_job,
    orders,
    source_fixture,  # noqa: F401 - the fixture `source`
)
from tests.unit.adapters.jobs.fakes import MemoryCatalog


def test_readers_never_see_a_half_loaded_table(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While ALL reloads in small batches, a concurrent reader always counts the full old or new table."""
    monkeypatch.setenv("AIRFLOW_CONN_TC_ENGINE", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "e.db")}))
    monkeypatch.setattr(dataset, "FETCH_BATCH", 3)
    job = dataset_job(MemoryCatalog(orders()), {"app": 1, "dataset": 1}, tmp=tmp_path).job
    dataset.run(job)
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            with sqlite3.connect(tmp_path / "e.db", timeout=10) as db:
                seen.add(db.execute("SELECT COUNT(*) FROM app1_orders").fetchone()[0])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(5):
            dataset.run(job)
    finally:
        stop.set()
        reader.join()
    assert seen == {30}


def test_bad_definitions_fail_before_any_work(source: Path, tmp_path: Path) -> None:
    bad = [
        (orders(query=""), "lacks query"),
        (orders("INCREMENTAL"), "needs a 'watermark'"),
        (orders(table="x; DROP TABLE y"), "not a plain SQL identifier"),
    ]
    for entity, message in bad:
        job = dataset_job(MemoryCatalog(entity), {"app": 1, "dataset": 1}, tmp=tmp_path).job
        with pytest.raises(JobDefinitionError, match=message):
            dataset.run(job)
    job = dataset_job(MemoryCatalog(), {"app": 1, "dataset": 7}, tmp=tmp_path).job
    with pytest.raises(JobDefinitionError, match="no DATASET entity '1-7'"):
        dataset.run(job)


def test_catalog_shows_engine_sizes_and_counts() -> None:
    catalog = EngineStatsCatalog(
        MemoryCatalog(
            orders(),
            Entity(group="DATASET", key="1-2", title="customers", disk_usage=None, dataset_count=None),
            Entity(group="APP_REFRESH", key="1", title="app1"),
            Entity(group="NOTEBOOK", key="1", title="notebook1"),
        ),
        lambda: {"1-1": (30, 4096), "1-2": (5, 1024)},
    )
    dataset_1 = catalog.get("DATASET", "1-1")
    assert dataset_1 is not None and (dataset_1.dataset_count, dataset_1.disk_usage) == (1, 4096)
    app = catalog.get("APP_REFRESH", "1")
    assert app is not None and (app.dataset_count, app.disk_usage) == (2, 5120)
    notebook = catalog.get("NOTEBOOK", "1")
    assert notebook is not None and notebook.disk_usage is None


def test_unreadable_engine_leaves_the_catalog_values() -> None:
    def broken() -> dict[str, tuple[int, int | None]]:
        raise OSError("engine down")

    catalog = EngineStatsCatalog(MemoryCatalog(orders()), broken)
    entity = catalog.get("DATASET", "1-1")
    assert entity is not None and entity.dataset_count is None


def test_catalog_reads_engine_stats_once_and_only_when_needed() -> None:
    reads: list[int] = []

    def stats() -> dict[str, tuple[int, int | None]]:
        reads.append(1)
        return {"1-1": (30, 4096)}

    catalog = EngineStatsCatalog(MemoryCatalog(orders(), Entity(group="NOTEBOOK", key="1", title="n")), stats)
    catalog.get("NOTEBOOK", "1")
    assert reads == []
    for _ in range(3):
        catalog.get("DATASET", "1-1")
    assert reads == [1]


def test_staging_names_are_unique_and_valid_identifiers() -> None:
    table = "t" * 63
    names = {dataset.staging_name(table) for _ in range(100)}
    assert len(names) == 100
    assert all(len(name) <= 63 and name.startswith("t" * 20) and "__loading_" in name for name in names)
