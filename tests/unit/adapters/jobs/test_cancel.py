"""A job stops for a cancel at its next checkpoint and leaves nothing half-written."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from taskcenter.adapters.jobs.cancel import CancelInterrupt, CancelRequest, CancelWatch
from taskcenter.adapters.jobs.db_sync import run as run_sync
from taskcenter.domain.catalog import Entity
from tests.unit.adapters.jobs.db_sync_helpers import (
    SOURCE,
    TARGET,
    rows,
    source_fixture,  # noqa: F401 - the fixture `source`
    target_fixture,  # noqa: F401 - the fixture `target`
)
from tests.unit.adapters.jobs.fakes import FakeLog, MemoryCatalog, make_job

REQUEST = CancelRequest(by="alice", at="2026-12-03T08:00:00+00:00")


def test_a_request_is_read_from_its_value_and_nothing_else() -> None:
    assert CancelRequest.of({"by": "alice", "at": "2026-12-03T08:00:00+00:00"}) == REQUEST
    assert CancelRequest.of('{"by": "alice", "at": "2026-12-03T08:00:00+00:00"}') == REQUEST  # still JSON-encoded
    assert CancelRequest.of({"at": "2026-12-03T08:00:00+00:00"}) == CancelRequest(
        by="unknown", at="2026-12-03T08:00:00+00:00"
    )
    for value in (None, "", "not json", "[]", [], {"by": "alice"}, {"at": ""}):
        assert CancelRequest.of(value) is None


def test_the_watch_sees_a_request_once_logs_it_and_stops_every_later_checkpoint() -> None:
    seen: list[CancelRequest] = []
    log = FakeLog()
    current: list[CancelRequest | None] = [None]
    watch = CancelWatch(read=lambda: current[0], log=log, on_request=seen.append)
    watch.checkpoint("step 1")  # no request yet: goes on
    current[0] = REQUEST
    with pytest.raises(
        CancelInterrupt, match="cancel requested by alice at 2026-12-03T08:00:00\\+00:00; stopped before step 2"
    ):
        watch.checkpoint("step 2")
    with pytest.raises(CancelInterrupt):
        watch.checkpoint("step 3")
    assert seen == [REQUEST]
    assert log.texts() == ["taskcenter: cancel requested by alice at 2026-12-03T08:00:00+00:00; stopping the job"]


def test_the_watch_thread_hands_the_request_over_within_its_interval() -> None:
    arrived = threading.Event()
    current: list[CancelRequest | None] = [None]
    watch = CancelWatch(read=lambda: current[0], log=None, interval=0.05, on_request=lambda request: arrived.set())
    watch.start()
    try:
        time.sleep(0.2)
        assert not arrived.is_set()
        current[0] = REQUEST
        assert arrived.wait(2)
    finally:
        watch.stop()


def test_a_job_that_does_not_stop_is_escalated_once() -> None:
    escalated = threading.Event()
    watch = CancelWatch(read=lambda: REQUEST, log=None, interval=0.02, escalate=escalated.set, escalate_after=0.1)
    watch.start()
    try:
        assert escalated.wait(2)
    finally:
        watch.stop()
    stopped_in_time = threading.Event()
    watch = CancelWatch(read=lambda: REQUEST, log=None, interval=0.02, escalate=stopped_in_time.set, escalate_after=0.5)
    watch.start()
    time.sleep(0.1)
    watch.stop()  # the job ended: no escalation
    assert not stopped_in_time.wait(0.7)


def test_a_failing_read_is_no_request_and_is_tried_again() -> None:
    calls: list[int] = []

    def read() -> CancelRequest | None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("supervisor busy")
        return REQUEST

    watch = CancelWatch(read=read, log=FakeLog())
    assert watch.poll() is None
    assert watch.poll() == REQUEST


def test_a_cancelled_full_sync_writes_no_further_batch_and_commits_nothing(
    tmp_path: Path,
    source: Path,
    target: sa.Engine,
) -> None:
    """Cancel arrives after the second batch: the third is never written and the target keeps its rows."""
    with target.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, product TEXT, amount REAL, "
            "ordered_at TEXT)"
        )
        conn.exec_driver_sql("INSERT INTO orders VALUES (999, 1, 'kept', 1.0, '2024-01-01')")
    reads: list[int] = []

    def read() -> CancelRequest | None:  # checkpoints before batches 1, 2 and 3: the third sees the cancel
        reads.append(1)
        return REQUEST if len(reads) >= 3 else None

    entity = Entity(
        group="DB_BATCH_SYNC",
        key="1",
        title="sync1",
        definition={"source": SOURCE, "target": TARGET, "batchSize": 40, "tables": [{"name": "orders", "key": "id"}]},
    )
    harness = make_job(
        job_class="com.hengshi.nangaparbat.schedulejob.DBBatchSyncJob",
        job_params={"syncProj": 1},
        entity_group="DB_BATCH_SYNC",
        entity_key="1",
        catalog=MemoryCatalog(entity, folder=tmp_path),
        work_folder=tmp_path / "work",
        cancel=CancelWatch(read=read, log=FakeLog()),
    )
    with pytest.raises(CancelInterrupt, match="stopped before orders: batch 3"):
        run_sync(harness.job)
    assert rows(target, "orders") == [(999, 1, "kept", 1.0, "2024-01-01")]
    assert harness.published == []
    assert "orders: batch 2, 80 rows copied so far" in harness.log.lines("orders")


def test_the_demo_catalogs_slow_entities_are_well_defined_and_slow() -> None:
    """Key 3 of every group (dataset 3-1 of app 3): definitions the runners accept, 30 s or more each."""
    from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG, FileEntityCatalog
    from taskcenter.adapters.jobs.dataset import DatasetDefinition
    from taskcenter.adapters.jobs.db_sync import parse_project
    from taskcenter.adapters.jobs.pipeline import parse_pipeline
    from taskcenter.domain.catalog import app_datasets

    catalog = FileEntityCatalog(DEMO_CATALOG)
    demo_rows = 240  # orders of the demo source (launcher/demo.py)
    pipeline = parse_pipeline(pipeline_id=3, definition=catalog.get("PIPELINE", "3").definition)
    assert [n.id for n in pipeline.nodes] == [1, 2, 3] and 3 * 11 >= 30
    project = parse_project(
        project_id=3, definition=catalog.get("DB_BATCH_SYNC", "3").definition, default_batch_size="1000"
    )
    assert (demo_rows // project.batch_size - 1) * project.batch_pause >= 30
    dataset = DatasetDefinition.of(catalog.get("DATASET", "3-1"))
    assert (demo_rows // dataset.fetch_size - 1) * dataset.batch_pause >= 30
    assert [e.key for e in app_datasets(catalog, 3)] == ["3-1"]
    for group in ("SCREENSHOT", "APP_EMAIL"):
        page = Path(catalog.folder) / catalog.get(group, "3").definition["page"]
        assert "until = started + 32000" in page.read_text()
    notebook = (Path(catalog.folder) / catalog.get("NOTEBOOK", "3").definition["notebook"]).read_text()
    assert notebook.count("time.sleep(1)") == 4 and "pause = 8" in notebook
