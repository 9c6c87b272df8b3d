"""Every vendor job type, started through the compat API on the demo catalog, doing its real work.

Each test runs a plan as a client of the spec would (`POST /api/schedules` with `sync: true`), then
reads `/api/contexts/{id}/logs` and `/results` and checks the effect outside taskcenter: the
engine's and the sync target's tables, the PNG on disk, the message the SMTP server received.
The instance is shared by every test of a backend, so each test first removes the effect it is
about to check (tables, stats rows), so that no earlier test can have produced it. The dataset
engine is the demo's SQLite file, or on the PostgreSQL backend a PostgreSQL database (as in
docker-compose).
"""

from __future__ import annotations

import email
import sqlite3
from email import policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.integration.harness import RunningTaskCenter, ok


def run_now(tc: RunningTaskCenter, group: str, key: str, **extra: Any) -> dict[str, Any]:
    """Create (or update) the entity's plan with the spec's defaults and run it to its end."""
    body = {"entityGroup": group, "entityKey": key, "planItems": [{"triggerType": "ONCE"}], "sync": True, **extra}
    return ok(tc.request("POST", "/api/schedules", json=body))["data"]


def context(tc: RunningTaskCenter, context_id: int) -> dict[str, Any]:
    return ok(tc.request("GET", f"/api/contexts/{context_id}"))["data"]


def logs(tc: RunningTaskCenter, context_id: int) -> dict[str, list[str]]:
    body = ok(tc.request("GET", f"/api/contexts/{context_id}/logs"))
    assert body["done"] is True
    return {part["subKey"]: part["logs"] for part in body["data"]}


def results(tc: RunningTaskCenter, context_id: int) -> dict[str, dict[str, Any]]:
    body = ok(tc.request("GET", f"/api/contexts/{context_id}/results"))
    assert body["done"] is True
    return {part["subKey"]: part["result"] for part in body["data"]}


def rows_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    names = [column["name"] for column in result["schema"]]
    return [dict(zip(names, row, strict=False)) for row in result["data"]]


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def demo_file(tc: RunningTaskCenter, name: str) -> Path:
    return tc.home / "taskcenter" / name


STATS_TABLE = "taskcenter_dataset_stats"


def engine_sql(tc: RunningTaskCenter, statement: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on the dataset engine (SQLite file or PostgreSQL) and return its rows."""
    engine = sa.create_engine(tc.engine_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params or {})
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def forget_datasets(tc: RunningTaskCenter, tables: dict[str, str]) -> None:
    """Drop these datasets' engine tables and stats rows ({dataset key: table}), as before any refresh."""
    engine = sa.create_engine(tc.engine_url)
    try:
        with engine.begin() as conn:
            for table in tables.values():
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
            if sa.inspect(conn).has_table(STATS_TABLE):
                for key in tables:
                    conn.execute(sa.text(f"DELETE FROM {STATS_TABLE} WHERE dataset_key = :key"), {"key": key})
    finally:
        engine.dispose()


def stats_of(tc: RunningTaskCenter, key: str) -> tuple[int, int]:
    ((rows, size),) = engine_sql(
        tc, f"SELECT row_count, disk_usage FROM {STATS_TABLE} WHERE dataset_key = :key", {"key": key}
    )
    return rows, size


def assert_successful(tc: RunningTaskCenter, ran: dict[str, Any]) -> int:
    context_id = ran["contextId"]
    status = context(tc, context_id)["jobStatus"]
    if status != "SUCCESSFUL":
        raise AssertionError(f"run {context_id} ended {status}:\n" + "\n".join(sum(logs(tc, context_id).values(), [])))
    return context_id


@pytest.mark.parametrize(
    ("group", "key", "causes"),
    [
        ("NOTEBOOK", "2", ["cell fail (3 of 4) failed", "ValueError: demo: this cell fails on purpose"]),
        ("PIPELINE", "2", ["nodeId: 1 taskId: 1] task failed", "no such table: no_such_table"]),
        ("DATASET", "9-1", ["no such table: no_such_table"]),
    ],
)
def test_a_failing_job_ends_failed_with_its_cause_in_the_logs(
    tc: RunningTaskCenter, group: str, key: str, causes: list[str]
) -> None:
    ran = run_now(tc, group, key)
    assert context(tc, ran["contextId"])["jobStatus"] == "FAILED"
    text = "\n".join(sum(logs(tc, ran["contextId"]).values(), []))
    for cause in causes:
        assert cause in text, text


def test_notebook_runs_every_cell_with_its_output_and_table(tc: RunningTaskCenter) -> None:
    ran = run_now(tc, "NOTEBOOK", "1", execDetail={"jobParams": {"notebook": 1, "currency": "EUR"}})
    context_id = assert_successful(tc, ran)

    by_cell = logs(tc, context_id)
    assert {"injected-parameters", "parameters", "greeting", "sales", "total"} <= set(by_cell), by_cell.keys()
    assert any("cell sales (3 of 4) started" in line for line in by_cell["sales"])
    assert any("total revenue: 70275.50 EUR from 556 orders" in line for line in by_cell["total"]), by_cell["total"]
    tables = results(tc, context_id)
    assert list(tables) == ["sales"]
    assert [c["name"] for c in tables["sales"]["schema"]] == ["region", "orders", "revenue"]
    assert len(tables["sales"]["data"]) == 5
    executed = list(
        (tc.home / "taskcenter" / "results" / f"taskcenter_plan_{ran['id']}").glob("*/notebook1.output.ipynb")
    )
    assert len(executed) == 1


def test_pipeline_runs_nodes_in_order_with_spec_log_lines(tc: RunningTaskCenter) -> None:
    source = demo_file(tc, "demo/source.db")
    with sqlite3.connect(source) as db:
        db.execute("DROP TABLE IF EXISTS pipeline1_paid_orders")  # node 1 creates it again
    ran = run_now(tc, "PIPELINE", "1")
    context_id = assert_successful(tc, ran)
    plan_id = ran["id"]

    by_node = logs(tc, context_id)
    for position, node in enumerate(("1", "2", "3"), start=1):
        prefix = f"[pipelineId: 1 jobId: {plan_id} nodeId: {node} taskId: {position}]"
        assert any(line.endswith(f"{prefix} task start") for line in by_node[node]), by_node[node]
        assert any(line.endswith(f"{prefix} task done") for line in by_node[node]), by_node[node]
    per_node = results(tc, context_id)
    cities = rows_of(per_node["2"])
    assert {row["city"] for row in cities} == {"Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Hangzhou", "Chengdu"}
    paid = query(source, "SELECT COUNT(*) FROM pipeline1_paid_orders")[0][0]
    assert sum(row["orders"] for row in cities) == paid == 240


def test_dataset_all_replaces_the_engine_table_and_reports_its_size(tc: RunningTaskCenter) -> None:
    forget_datasets(tc, {"1-1": "app1_orders"})
    ran = run_now(tc, "DATASET", "1-1")
    context_id = assert_successful(tc, ran)

    assert engine_sql(tc, "SELECT COUNT(*), MIN(id), MAX(id) FROM app1_orders") == [(240, 1, 240)]
    table = results(tc, context_id)["1-1"]
    assert [c["name"] for c in table["schema"]] == ["id", "customer_id", "product", "amount", "ordered_at"]
    assert len(table["data"]) == 100 and table["data"][0][0] == 1
    assert "1-1" in logs(tc, context_id)
    rows, size = stats_of(tc, "1-1")
    assert rows == 240 and size > 0
    plan = ok(tc.request("GET", f"/api/schedules/{ran['id']}"))["data"]
    assert plan["datasetCount"] == 1 and plan["diskUsage"] == size

    # ALL again: the same rows, not twice as many, and no staging table left behind.
    assert_successful(tc, run_now(tc, "DATASET", "1-1"))
    assert engine_sql(tc, "SELECT COUNT(*) FROM app1_orders") == [(240,)]
    engine = sa.create_engine(tc.engine_url)
    try:
        assert not [name for name in sa.inspect(engine).get_table_names() if "__loading" in name]
    finally:
        engine.dispose()


def test_dataset_incremental_appends_rows_past_the_watermark(tc: RunningTaskCenter) -> None:
    source = demo_file(tc, "demo/source.db")
    forget_datasets(tc, {"1-2": "app1_customers"})
    try:
        assert_successful(tc, run_now(tc, "DATASET", "1-2"))
        before = engine_sql(tc, "SELECT COUNT(*), MAX(id) FROM app1_customers")[0]
        assert before == query(source, "SELECT COUNT(*), MAX(id) FROM customers")[0]  # the first load: all
        with sqlite3.connect(source) as db:
            db.execute("INSERT INTO customers VALUES (1001, 'customer new', 'Xiamen')")
        context_id = assert_successful(tc, run_now(tc, "DATASET", "1-2"))
        after = engine_sql(tc, "SELECT COUNT(*), MAX(id) FROM app1_customers")[0]
        assert after == (before[0] + 1, 1001)
        assert any("INCREMENTAL past id" in line for line in logs(tc, context_id)["1-2"])
    finally:
        with sqlite3.connect(source) as db:
            db.execute("DELETE FROM customers WHERE id = 1001")


def test_app_refresh_maps_one_task_per_dataset(tc: RunningTaskCenter) -> None:
    source = demo_file(tc, "demo/source.db")
    forget_datasets(tc, {"1-1": "app1_orders", "1-2": "app1_customers"})
    ran = run_now(tc, "APP_REFRESH", "1")
    context_id = assert_successful(tc, ran)

    # Each dataset's engine table holds its source's rows, loaded by this run.
    assert (
        engine_sql(tc, "SELECT COUNT(*) FROM app1_orders") == query(source, "SELECT COUNT(*) FROM orders") == [(240,)]
    )
    assert engine_sql(tc, "SELECT COUNT(*), MAX(id) FROM app1_customers") == query(
        source, "SELECT COUNT(*), MAX(id) FROM customers"
    )
    per_dataset = results(tc, context_id)
    assert set(per_dataset) == {"1-1", "1-2"}
    assert [c["name"] for c in per_dataset["1-2"]["schema"]] == ["id", "name", "city"]
    by_key = logs(tc, context_id)
    assert {"1-1", "1-2"} <= set(by_key)
    dag_id = f"taskcenter_plan_{ran['id']}"
    run_id = tc.dag_runs(dag_id)[-1]["dag_run_id"]
    mapped = tc.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/job/listMapped").json()
    assert sorted(ti["rendered_map_index"] for ti in mapped["task_instances"]) == ["1-1", "1-2"]
    sizes = [stats_of(tc, key)[1] for key in ("1-1", "1-2")]
    assert all(size > 0 for size in sizes)
    plan = ok(tc.request("GET", f"/api/schedules/{ran['id']}"))["data"]
    assert plan["datasetCount"] == 2 and plan["diskUsage"] == sum(sizes)


def test_screenshot_renders_the_app_to_a_png(tc: RunningTaskCenter) -> None:
    context_id = assert_successful(tc, run_now(tc, "SCREENSHOT", "1"))

    (row,) = rows_of(results(tc, context_id)["1"])
    path = Path(row["file"])
    assert path.is_file() and path.stat().st_size == row["bytes"]
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG" and image.size == (1280, 800) == (row["width"], row["height"])


def test_app_email_arrives_with_report_and_screenshot(tc: RunningTaskCenter) -> None:
    outbox = tc.home / "outbox"
    before = set(outbox.glob("*.eml"))
    context_id = assert_successful(tc, run_now(tc, "APP_EMAIL", "1"))

    new = sorted(set(outbox.glob("*.eml")) - before)
    assert len(new) == 1, new
    message = email.message_from_bytes(new[0].read_bytes(), policy=policy.default)
    assert "bi-team@example.com" in message["To"] and message["Subject"] == "app1 report"
    body = message.get_body(preferencelist=("html",))
    assert body is not None and "orders" in body.get_content()
    images = [part for part in message.iter_attachments() if (part.get_filename() or "").endswith(".png")]
    assert len(images) == 1
    png = Path(tc.home / "received.png")
    png.write_bytes(images[0].get_content())
    with Image.open(png) as image:
        image.load()
        assert image.format == "PNG"
    assert rows_of(results(tc, context_id)["1"])[0]["recipients"] == "bi-team@example.com"


def test_db_batch_sync_copies_tables_in_batches_then_incrementally(tc: RunningTaskCenter) -> None:
    source, target = demo_file(tc, "demo/source.db"), demo_file(tc, "demo/target.db")
    with sqlite3.connect(target) as db:
        db.execute("DROP TABLE IF EXISTS orders")
        db.execute("DROP TABLE IF EXISTS customers")
    context_id = assert_successful(tc, run_now(tc, "DB_BATCH_SYNC", "1"))

    assert query(target, "SELECT COUNT(*) FROM orders")[0][0] == 240
    assert query(target, "SELECT COUNT(*) FROM customers") == query(source, "SELECT COUNT(*) FROM customers")
    per_table = {key: rows_of(value)[0] for key, value in results(tc, context_id).items()}
    assert per_table["orders"]["rowsCopied"] == 240 and per_table["orders"]["batches"] == 5
    assert {"orders", "customers"} <= set(logs(tc, context_id))

    with sqlite3.connect(source) as db:
        db.execute("INSERT INTO orders VALUES (1001, 1, 'dock', 99.5, '2020-06-01 00:00:00')")
    try:
        context_id = assert_successful(tc, run_now(tc, "DB_BATCH_SYNC", "1"))
        assert rows_of(results(tc, context_id)["orders"])[0]["rowsCopied"] == 1
        assert query(target, "SELECT COUNT(*) FROM orders")[0][0] == 241
    finally:
        with sqlite3.connect(source) as db:
            db.execute("DELETE FROM orders WHERE id = 1001")
