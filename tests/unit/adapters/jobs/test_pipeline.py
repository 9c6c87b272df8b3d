"""PIPELINE runner: dependency order, logs per node, results per node, failures, bad definitions.

Runs the demo catalog's own PIPELINE definitions against a SQLite demo source built here; python
nodes of ad-hoc pipelines call functions of a throw-away module registered in sys.modules.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from taskcenter.adapters.catalog.demo_callables import pipeline_summary
from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG, FileEntityCatalog
from taskcenter.adapters.jobs.base import JobDefinitionError
from taskcenter.adapters.jobs.pipeline import PipelineNodeError, run
from tests.unit.adapters.jobs.fakes import FakeLog, MemoryCatalog
from tests.unit.adapters.jobs.pipeline_helpers import pipeline, pipeline_job, sql

CITIES = {1: "Beijing", 2: "Shanghai", 3: "Beijing", 4: "Shenzhen"}


def make_source(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
        db.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, product TEXT, amount REAL, "
            "ordered_at TEXT)"
        )
        db.executemany("INSERT INTO customers VALUES (?, ?, ?)", [(i, f"c{i}", city) for i, city in CITIES.items()])
        orders = [(i, i % 4 + 1, f"p{i % 3}", float(i * 10), f"2024-01-{i:02d}") for i in range(1, 21)]
        orders.append((21, 2, "refund", -5.0, "2024-01-21"))  # not paid: node 1 filters it out
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", orders)
    db.close()


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "source.db"
    make_source(path)
    monkeypatch.setenv("AIRFLOW_CONN_TASKCENTER_DEMO_SOURCE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


@pytest.fixture
def callables(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A module `tc_test_callables` whose functions record how they were called."""
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("tc_test_callables")

    def record(*, params: Any, upstream: Any, log: Any) -> list[dict[str, Any]]:
        calls.append({"params": dict(params), "upstream": dict(upstream), "log": log})
        log.info("recorded")
        return [{"calls": len(calls)}]

    def scalar(*, params: Any, upstream: Any, log: Any) -> int:
        return 42

    def nothing(*, params: Any, upstream: Any, log: Any) -> None:
        return None

    def boom(*, params: Any, upstream: Any, log: Any) -> None:
        raise ValueError("boom")

    for function in (record, scalar, nothing, boom):
        setattr(module, function.__name__, function)
    module.not_callable = 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return calls


def py(node_id: Any, function: str, *depends: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "name": f"n{node_id}",
        "type": "python",
        "callable": f"tc_test_callables:{function}",
        "dependsOn": list(depends),
    }


def test_demo_pipeline_1_runs_nodes_in_order_with_spec_log_lines(tmp_path: Path, source: Path) -> None:
    harness = pipeline_job(tmp_path, FileEntityCatalog(DEMO_CATALOG))
    run(harness.job)

    assert [key for key, _ in harness.published] == ["1", "2", "3"]
    results = dict(harness.published)
    per_city = results["2"]
    assert [c["name"] for c in per_city["schema"]] == ["city", "orders", "revenue"]
    assert per_city["data"] == [["Beijing", 10, 1100.0], ["Shanghai", 5, 450.0], ["Shenzhen", 5, 550.0]]
    summary = results["3"]
    assert [c["name"] for c in summary["schema"]] == ["cities", "orders", "revenue", "topCity", "topCityRevenue"]
    assert summary["data"] == [[3, 20, 2100.0, "Beijing", 1100.0]]
    for position, node in enumerate(["1", "2", "3"], start=1):
        lines = harness.log.lines(node)
        prefix = f"[pipelineId: 1 jobId: 7 nodeId: {node} taskId: {position}]"
        assert lines[0] == f"{prefix} task start"
        assert lines[-1] == f"{prefix} task done"
        assert len(lines) > 2  # what ran in between
    assert any("statement 2/2" in line for line in harness.log.lines("1"))
    assert any("3 row(s), columns city, orders, revenue" in line for line in harness.log.lines("2"))
    assert {key for _, key, _ in harness.log.records} == {"1", "2", "3"}
    with sqlite3.connect(source) as db:
        assert db.execute("SELECT COUNT(*) FROM pipeline1_paid_orders").fetchone() == (20,)


def test_demo_pipeline_2_fails_naming_the_node(tmp_path: Path, source: Path) -> None:
    harness = pipeline_job(tmp_path, FileEntityCatalog(DEMO_CATALOG), pipeline=2, plan_id=None)
    with pytest.raises(
        PipelineNodeError, match=r"pipeline 2 node 1 \(broken query\) failed: .*no such table: no_such_table"
    ):
        run(harness.job)
    lines = harness.log.lines("1")
    assert lines[0] == "[pipelineId: 2 jobId: 0 nodeId: 1 taskId: 1] task start"
    assert lines[-1].startswith(
        "[pipelineId: 2 jobId: 0 nodeId: 1 taskId: 1] task failed: OperationalError: no such table"
    )
    assert harness.published == []


def test_a_failed_node_stops_the_nodes_after_it(tmp_path: Path, source: Path) -> None:
    harness = pipeline(
        tmp_path, [sql(1, "SELECT 1 AS one"), sql(2, "SELECT * FROM nope", 1), sql(3, "SELECT 3 AS three", 1)]
    )
    with pytest.raises(PipelineNodeError, match=r"node 2 \(n2\)"):
        run(harness.job)
    assert [key for key, _ in harness.published] == ["1"]
    assert harness.log.lines("3") == []
    assert "task failed" in harness.log.lines("2")[-1]


def test_order_is_topological_with_ties_broken_by_id(tmp_path: Path, source: Path) -> None:
    nodes = [
        sql(5, "SELECT 5 AS n"),
        sql(3, "SELECT 3 AS n", 5),
        sql(4, "SELECT 4 AS n"),
        sql(1, "SELECT 1 AS n", 4, 3),
        sql(2, "SELECT 2 AS n"),
    ]
    harness = pipeline(tmp_path, nodes)
    run(harness.job)
    started = [line for line in harness.log.texts() if line.endswith("task start")]
    assert started == [
        f"[pipelineId: 5 jobId: 7 nodeId: {n} taskId: {t}] task start" for t, n in enumerate([2, 4, 5, 3, 1], start=1)
    ]
    assert [key for key, _ in harness.published] == ["2", "4", "5", "3", "1"]


def test_statements_of_a_node_share_one_transaction(tmp_path: Path, source: Path) -> None:
    harness = pipeline(
        tmp_path, [sql(1, ["CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1), (2), (3)", "SELECT * FROM nope"])]
    )
    with pytest.raises(PipelineNodeError):
        run(harness.job)
    with sqlite3.connect(source) as db:  # the CREATE TABLE was rolled back with the rest
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall() == []


def test_a_node_without_rows_reports_rows_affected_and_sql_is_sent_verbatim(tmp_path: Path, source: Path) -> None:
    harness = pipeline(
        tmp_path,
        [
            sql(1, ["CREATE TABLE t (x TEXT)", "INSERT INTO t VALUES ('100%'), (':name'), ('x')"]),
            sql(2, "SELECT x FROM t WHERE x LIKE '%\\%%' ESCAPE '\\' OR x = ':name' ORDER BY x", 1),
        ],
    )
    run(harness.job)
    results = dict(harness.published)
    assert results["1"]["data"] == [[3]] and results["1"]["schema"][0]["name"] == "rowsAffected"
    assert results["2"]["data"] == [["100%"], [":name"]]


def test_python_nodes_get_params_direct_upstream_and_their_step_logger(
    tmp_path: Path, source: Path, callables: list[dict[str, Any]]
) -> None:
    harness = pipeline(
        tmp_path, [sql(1, "SELECT 1 AS one"), py(2, "scalar", 1), py(3, "nothing"), py(4, "record", 2, 3)]
    )
    run(harness.job)
    (call,) = callables
    assert call["params"] == {"pipeline": 5}
    assert call["upstream"] == {2: dict(harness.published)["2"], 3: None}
    assert dict(harness.published)["2"]["data"] == [[42]]
    assert [key for key, _ in harness.published] == ["1", "2", "4"]  # node 3 returned None: nothing to publish
    assert dict(harness.published)["4"]["data"] == [[1]]
    assert "recorded" in harness.log.lines("4")


def test_a_failing_python_node_is_reported(tmp_path: Path, source: Path, callables: list[dict[str, Any]]) -> None:
    harness = pipeline(tmp_path, [py("a", "boom")])
    with pytest.raises(PipelineNodeError, match=r"node a \(na\) failed: ValueError: boom"):
        run(harness.job)
    assert harness.log.lines("a")[-1] == "[pipelineId: 5 jobId: 7 nodeId: a taskId: 1] task failed: ValueError: boom"


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ([sql(1, "SELECT 1", 2), sql(2, "SELECT 1", 1)], "dependency cycle"),
        ([sql(1, "SELECT 1", 1)], "dependency cycle"),
        ([sql(1, "SELECT 1", 9)], "unknown node"),
        ([sql(1, "SELECT 1"), sql(1, "SELECT 2")], "duplicate node id 1"),
        ([sql(1, "SELECT 1"), {"id": 2, "type": "shell", "command": "ls"}], "unknown node type 'shell'"),
        ([sql(1, "SELECT 1"), {"id": 2, "type": "sql", "conn": "x"}], "'sql' must be"),
        ([{"id": 1, "type": "sql", "sql": "SELECT 1"}], "'conn'"),
        ([sql(1, "SELECT 1") | {"depends_on": [2]}], "unknown field"),
        ([sql(1, "SELECT 1"), py(2, "no_such_function")], "cannot load callable"),
        ([sql(1, "SELECT 1"), py(2, "not_callable")], "is not callable"),
        ([sql(1, "SELECT 1"), {"id": 2, "type": "python", "callable": "no_colon"}], "'module:function'"),
        ([sql(1, "SELECT 1"), sql(2, "SELECT 1", conn="no_such_conn")], "no_such_conn"),
        ([], "non-empty list"),
    ],
)
def test_bad_definitions_fail_before_any_node_runs(
    tmp_path: Path, source: Path, callables: list[dict[str, Any]], nodes: list[dict[str, Any]], message: str
) -> None:
    harness = pipeline(tmp_path, nodes)
    with pytest.raises(JobDefinitionError, match=message):
        run(harness.job)
    assert harness.log.records == [] and harness.published == []


def test_unknown_pipeline_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(JobDefinitionError, match="no PIPELINE entity 404"):
        run(pipeline_job(tmp_path, MemoryCatalog(folder=tmp_path), pipeline=404).job)


def test_pipeline_summary_without_a_per_city_table_says_so() -> None:
    with pytest.raises(ValueError, match="city/orders/revenue"):
        pipeline_summary(params={}, upstream={1: None}, log=FakeLog())
