from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.adapters.jobs.fakes import bare_job


def test_a_run_looks_each_connection_up_once_and_close_disposes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TC_ONE", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "one.db")}))
    fake = bare_job(tmp_path, entity_group="DATASET", entity_key="1-1")
    engine = fake.job.sql_engine("tc_one")
    assert fake.job.sql_engine("tc_one") is engine
    disposed: list[bool] = []
    monkeypatch.setattr(engine, "dispose", lambda: disposed.append(True))
    fake.job.close()
    assert disposed == [True]
    assert fake.job.sql_engine("tc_one") is not engine  # a new engine after close
