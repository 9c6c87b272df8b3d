"""The DATASET tests' builders, shared by the unit and the component tests: the orders dataset, the
job and the `source` fixture (the demo source as a SQLite file).

Pure: nothing here starts a process or opens a socket. A test module takes the fixture by importing
`source_fixture` (registered as `source`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taskcenter.domain.catalog import Entity
from taskcenter.launcher.demo import create_demo_source
from tests.unit.adapters.jobs.fakes import FakeJob, MemoryCatalog, make_job


def orders(update_method: str = "ALL", **definition: Any) -> Entity:
    spec = {
        "source": "tc_source",
        "table": "app1_orders",
        "query": "SELECT id, product, amount FROM orders",
        **definition,
    }
    return Entity(group="DATASET", key="1-1", title="orders", update_method=update_method, definition=spec)


def dataset_job(catalog: MemoryCatalog, params: dict[str, Any], *, sub_key: str | None = None, tmp: Path) -> FakeJob:
    return make_job(
        job_class="com.hengshi.nangaparbat.schedulejob.DatasetJob",
        job_params=params,
        entity_group="DATASET",
        entity_key="1-1",
        catalog=catalog,
        work_folder=tmp / "work",
        sub_key=sub_key,
        options={"engine_conn_id": "tc_engine"},
    )


@pytest.fixture(name="source")
def source_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "source.db"
    create_demo_source(path, customers=5, orders=30)
    monkeypatch.setenv("AIRFLOW_CONN_TC_SOURCE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path
