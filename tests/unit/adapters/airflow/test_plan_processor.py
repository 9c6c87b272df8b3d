from __future__ import annotations

import os
import selectors
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from airflow.dag_processing.manager import DagFileInfo

from taskcenter.adapters.airflow.plan_processor import parsed_since_written


def _file(folder: Path, name: str, *, written: datetime) -> DagFileInfo:
    path = folder / name
    path.write_text("dag = None\n")
    os.utime(path, (written.timestamp(), written.timestamp()))
    return DagFileInfo(rel_path=Path(name), bundle_name="taskcenter-plans", bundle_path=folder)


def test_only_files_parsed_since_their_last_write_are_adopted(tmp_path: Path) -> None:
    now = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)
    unchanged = _file(tmp_path, "plan_1.py", written=now - timedelta(hours=1))
    rewritten = _file(tmp_path, "plan_2.py", written=now)
    never_parsed = _file(tmp_path, "plan_3.py", written=now - timedelta(hours=1))
    failed = _file(tmp_path, "plan_4.py", written=now - timedelta(hours=1))
    gone = DagFileInfo(rel_path=Path("plan_5.py"), bundle_name="taskcenter-plans", bundle_path=tmp_path)
    last_parsed = {
        "plan_1.py": now - timedelta(minutes=30),
        "plan_2.py": now - timedelta(minutes=30),  # parsed before its last write: parse again
        "plan_4.py": now - timedelta(minutes=30),
        "plan_5.py": now,
    }
    adopted = parsed_since_written(
        [unchanged, rewritten, never_parsed, failed, gone], last_parsed=last_parsed, failed={"plan_4.py"}
    )
    assert adopted == {unchanged: now - timedelta(minutes=30)}


class _BrokenWakeup:
    """A channel whose connection is gone: readable, and `drain` says it is broken."""

    def __init__(self) -> None:
        import socket

        self.reader, self.writer = socket.socketpair()
        self.writer.send(b"x")
        self.closed = False

    def fileno(self) -> int:
        return self.reader.fileno()

    def drain(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True
        self.reader.close()
        self.writer.close()


def test_a_commit_wakes_the_loop_and_a_broken_channel_is_dropped_then_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskcenter.adapters.airflow import dag_files, plan_processor
    from taskcenter.adapters.airflow.parse_wakeup import DatagramWakeup, _socket_address, send_datagram

    channels: list[object] = []

    def open_channel(*, url: str, bundle_path: Path) -> object:
        channel = _BrokenWakeup() if channels else DatagramWakeup.open(tmp_path)
        channels.append(channel)
        return channel

    monkeypatch.setattr(plan_processor, "open_wakeup", open_channel)
    monkeypatch.setattr(
        dag_files,
        "configured_dag_files",
        lambda: dag_files.PlanDagFiles(bundle_name="b", bundle_path=tmp_path, subfolder=""),
    )
    monkeypatch.setattr(plan_processor.DagFileProcessorManager, "claim_priority_files", lambda self: [])
    manager = plan_processor.PlanFileProcessorManager(max_runs=1)
    manager.selector = selectors.DefaultSelector()
    manager._open_wakeup()

    started = time.monotonic()
    send_datagram(_socket_address(tmp_path))
    manager._service_processor_sockets(timeout=5)  # returns at the wake-up, not after the timeout
    assert time.monotonic() - started < 2
    assert manager._wakeup is channels[0]  # drained and kept

    manager._close_wakeup()
    manager._wakeup_opened_at = float("-inf")
    manager.claim_priority_files()  # no channel: opened again (here: one that is broken)
    broken = channels[1]
    assert manager._wakeup is broken
    manager._service_processor_sockets(timeout=5)
    assert manager._wakeup is None and broken.closed  # the loop dropped it; polling goes on
    manager.claim_priority_files()
    assert len(channels) == 2  # not reopened before REOPEN_WAKEUP_AFTER


def test_permissions_are_synced_only_for_a_dag_that_lacks_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlalchemy as sa
    from airflow.dag_processing import collection
    from airflow.providers.fab.auth_manager.models import Model
    from airflow.providers.fab.www.security_appless import ApplessAirflowSecurityManager
    from sqlalchemy.orm import Session

    from taskcenter.adapters.airflow.plan_processor import dag_permissions_present, sync_dag_permissions_when_missing

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'fab.db'}")
    Model.metadata.create_all(engine)
    synced: list[str] = []

    def airflow_sync(dag: object, session: Session) -> None:
        synced.append(dag.dag_id)  # type: ignore[attr-defined]
        ApplessAirflowSecurityManager(session=session).sync_perm_for_dag(dag.dag_id, dag.access_control)  # type: ignore[attr-defined]

    monkeypatch.setattr(collection, "_sync_dag_perms", airflow_sync)
    sync_dag_permissions_when_missing()
    sync_dag_permissions_when_missing()  # idempotent: wrapped once

    class Dag:
        def __init__(self, dag_id: str, access_control: dict | None = None) -> None:
            self.dag_id, self.access_control = dag_id, access_control

    with Session(engine) as session:
        assert not dag_permissions_present("taskcenter_plan_1", session=session)
        collection._sync_dag_perms(Dag("taskcenter_plan_1"), session=session)  # new: Airflow's sync
        session.commit()
        assert dag_permissions_present("taskcenter_plan_1", session=session)
        assert not dag_permissions_present("taskcenter_plan_2", session=session)
        collection._sync_dag_perms(Dag("taskcenter_plan_1"), session=session)  # known: skipped
        collection._sync_dag_perms(Dag("taskcenter_plan_1", access_control={}), session=session)
    assert synced == ["taskcenter_plan_1", "taskcenter_plan_1"]


def test_airflow_still_has_the_permission_sync_the_plan_processor_wraps() -> None:
    import inspect

    from airflow.dag_processing import collection

    assert list(inspect.signature(collection._sync_dag_perms).parameters) == ["dag", "session"]


def test_a_plans_dag_is_created_paused_as_its_plan_is_enabled_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parsed file may predate the plan's last write; the DAG row follows the plan's row."""
    from types import SimpleNamespace

    import sqlalchemy as sa
    from airflow.dag_processing import collection
    from sqlalchemy.orm import Session

    from taskcenter.adapters.airflow.plan_processor import create_plan_dags_as_their_plans_are
    from taskcenter.adapters.store.models import Base, PlanRow

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    Base.metadata.create_all(engine)
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    with Session(engine) as db:
        for plan_id, enabled in ((1, True), (2, False)):
            db.add(
                PlanRow(
                    id=plan_id,
                    entity_group="NOTEBOOK",
                    entity_key=str(plan_id),
                    dag_id=f"taskcenter_plan_{plan_id}",
                    enabled=enabled,
                    job_class="j",
                    job_params={},
                    retry_times=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        db.commit()

    def airflow_create(
        bundle_name: str, bundle_version: str | None, dags: object, *, session: Session
    ):  # as the file says
        for dag in dags:  # type: ignore[attr-defined]
            yield SimpleNamespace(dag_id=dag.dag_id, is_paused=dag.is_paused_upon_creation)

    monkeypatch.setattr(collection, "_create_orm_dags", airflow_create)
    create_plan_dags_as_their_plans_are()
    create_plan_dags_as_their_plans_are()  # idempotent: wrapped once
    parsed = [
        SimpleNamespace(dag_id=d, is_paused_upon_creation=p)
        for d, p in (("taskcenter_plan_1", True), ("taskcenter_plan_2", False), ("users_dag", True))
    ]
    with Session(engine) as db:
        created = {m.dag_id: m.is_paused for m in collection._create_orm_dags("b", None, parsed, session=db)}
    assert created == {"taskcenter_plan_1": False, "taskcenter_plan_2": True, "users_dag": True}


def test_airflow_still_creates_dag_rows_where_the_plan_processor_wraps_it() -> None:
    import inspect

    from airflow.dag_processing import collection

    parameters = inspect.signature(collection._create_orm_dags).parameters
    assert list(parameters) == ["bundle_name", "bundle_version", "dags", "session"]
    assert parameters["session"].kind is inspect.Parameter.KEYWORD_ONLY


def test_a_file_requested_while_its_parse_runs_is_parsed_again_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow pops a queued file that is being parsed and drops it: a newer write would be lost."""
    from taskcenter.adapters.airflow import plan_processor

    busy, waiting = (
        DagFileInfo(rel_path=Path(n), bundle_name="b", bundle_path=tmp_path) for n in ("plan_1.py", "plan_2.py")
    )
    started: list[DagFileInfo] = []
    monkeypatch.setattr(
        plan_processor.DagFileProcessorManager, "_create_process", lambda self, file: started.append(file) or object()
    )
    manager = plan_processor.PlanFileProcessorManager(max_runs=1)
    manager._parallelism = 2
    manager._processors[busy] = object()  # type: ignore[assignment]
    manager._file_queue[busy] = None  # requested again while that parse runs
    manager._file_queue[waiting] = None

    manager._start_new_processes()
    assert started == [waiting]
    assert list(manager._file_queue) == [busy]  # still queued, first in line

    del manager._processors[busy]  # that parse ended
    manager._start_new_processes()
    assert started == [waiting, busy] and not manager._file_queue


def test_the_bundle_is_scanned_for_changes_once_per_listing_not_on_every_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskcenter.adapters.airflow import plan_processor

    scans: list[int] = []
    monkeypatch.setattr(
        plan_processor.DagFileProcessorManager, "prepare_file_queue", lambda self, known_files: scans.append(1)
    )
    manager = plan_processor.PlanFileProcessorManager(max_runs=1)
    manager.prepare_file_queue({})
    manager.prepare_file_queue({})  # an idle pass: nothing listed since
    assert len(scans) == 1
    manager._add_new_files_to_queue({})  # Airflow listed the bundle again
    manager.prepare_file_queue({})
    manager.prepare_file_queue({})
    assert len(scans) == 2


def test_a_parse_process_does_not_pay_for_the_number_of_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork formats the manager (its old signal handler's owner), and each pass read every queued
    file's bundle: both were O(plans) and made each parse slower as plans grew."""
    import signal

    from airflow.dag_processing.manager import DagFileStat

    from taskcenter.adapters.airflow import plan_processor

    files = [DagFileInfo(rel_path=Path(f"plan_{i}.py"), bundle_name="b", bundle_path=tmp_path) for i in range(2000)]
    manager = plan_processor.PlanFileProcessorManager(max_runs=1)
    for file in files:
        manager._file_stats[file] = DagFileStat(num_dags=1)
        manager._file_queue[file] = None
    assert len(repr(manager)) < 100
    previous = signal.signal(signal.SIGUSR2, manager._exit_gracefully)
    try:
        assert len(repr(signal.signal(signal.SIGUSR2, signal.SIG_DFL))) < 200  # what a fork's reset formats
    finally:
        signal.signal(signal.SIGUSR2, previous)

    asked: list[int] = []
    started: list[DagFileInfo] = []
    monkeypatch.setattr(
        plan_processor.DagFileProcessorManager,
        "_get_team_names",
        lambda self, bundles: asked.append(len(manager._file_queue)) or {},
    )
    monkeypatch.setattr(
        plan_processor.DagFileProcessorManager, "_create_process", lambda self, file: started.append(file) or object()
    )
    manager._parallelism = 2
    manager._start_new_processes()
    assert asked == [2] and started == files[:2] and list(manager._file_queue) == files[2:]


def test_the_parse_of_a_deleted_plans_file_is_dropped_not_persisted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parse that ran while the plan was deleted would bring its DAG row back."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from taskcenter.adapters.airflow import plan_processor
    from taskcenter.adapters.store.models import Base, PlanRow

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    Base.metadata.create_all(engine)
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    with Session(engine) as db:
        db.add(
            PlanRow(
                id=7,
                entity_group="NOTEBOOK",
                entity_key="7",
                dag_id="taskcenter_plan_7",
                enabled=True,
                job_class="j",
                job_params={},
                retry_times=0,
                created_at=now,
                updated_at=now,
            )
        )
        db.commit()
    persisted: list[str | None] = []
    monkeypatch.setattr(
        plan_processor.DagFileProcessorManager,
        "persist_parsing_result",
        lambda self, *, relative_fileloc, session, **kwargs: persisted.append(relative_fileloc),
    )
    manager = plan_processor.PlanFileProcessorManager(max_runs=1)
    with Session(engine) as db:
        for relative in ("plan_7.py", "sub/plan_7.py", "plan_8.py", "users_dag.py", None):
            manager.persist_parsing_result(relative_fileloc=relative, session=db, bundle_name="b")
    assert persisted == ["plan_7.py", "sub/plan_7.py", "users_dag.py", None]  # plan 8 is gone
