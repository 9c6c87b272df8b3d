"""PIPELINE runner: dependency order, logs per node, results per node, failures, bad definitions.

Runs the demo catalog's own PIPELINE definitions against a SQLite demo source built here; python
nodes of ad-hoc pipelines call functions of a throw-away module registered in sys.modules.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taskcenter.adapters.jobs.pipeline import run
from tests.unit.adapters.jobs.pipeline_helpers import pipeline, sql


def test_pipeline_on_postgresql_sends_sql_verbatim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    try:
        psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL answers at 127.0.0.1:5432 as user postgres: {exc}")
    conn = {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": "postgres"}
    monkeypatch.setenv("AIRFLOW_CONN_TC_PG", json.dumps(conn))
    harness = pipeline(
        tmp_path,
        [
            sql(1, ["CREATE TEMPORARY TABLE t (x text)", "INSERT INTO t VALUES ('100%'), (':name')"], conn="tc_pg"),
            sql(2, "SELECT '100%' AS p, 2::int AS q, ':name' AS r", 1, conn="tc_pg"),
        ],
    )
    run(harness.job)
    results = dict(harness.published)
    assert results["1"]["data"] == [[2]]
    assert results["2"]["data"] == [["100%", 2, ":name"]]
