"""Plans' DAG files through the DB: the store (SQLite and PostgreSQL) and the bundle that copies
them onto a host, also through an Airflow connection as a worker's task process does."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from taskcenter.adapters.airflow.plan_bundle import MANIFEST, PlanFilesBundle
from taskcenter.adapters.store.plan_files import PlanFileStore, Stored
from tests.component.databases import session_for

pytest_plugins = ("tests.component.database_fixtures",)  # `engine`: taskcenter's tables on SQLite and PostgreSQL

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def put(engine: sa.Engine, plan_id: int, content: str, *, at: datetime = T0) -> Stored:
    with session_for(engine) as db:
        stored = PlanFileStore(db).put(plan_id, relative_path=f"plans/plan_{plan_id}.py", content=content, now=at)
        db.commit()
    return stored


def bundle(engine: sa.Engine, folder: Path, monkeypatch: pytest.MonkeyPatch) -> PlanFilesBundle:
    """The bundle as the dag-processor uses it: Airflow's own engine (here the test's)."""
    from airflow import settings

    monkeypatch.setattr(settings, "engine", engine, raising=False)
    return PlanFilesBundle(name="taskcenter-plans", path=str(folder), refresh_interval=300)


def test_the_store_keeps_one_file_per_plan_and_says_what_changed(engine: sa.Engine) -> None:
    assert put(engine, 1, "first") is Stored.NEW
    assert put(engine, 1, "first") is Stored.UNCHANGED
    assert put(engine, 1, "second") is Stored.CHANGED
    put(engine, 2, "other")
    with session_for(engine) as db:
        store = PlanFileStore(db)
        assert set(store.manifest()) == {1, 2}
        (one,) = store.files([1])
        assert one.content == "second" and one.relative_path == "plans/plan_1.py"
        assert store.remove_all_but([2]) == [1]
        db.commit()
        assert set(store.manifest()) == {2}


def test_a_sync_writes_changed_files_only_and_removes_the_files_of_deleted_plans(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = bundle(engine, tmp_path / "host", monkeypatch)
    put(engine, 1, "dag = 1\n")
    put(engine, 2, "dag = 2\n", at=T0 + timedelta(minutes=1))
    assert plans.sync().written == 2
    first = tmp_path / "host" / "plans" / "plan_1.py"
    assert first.read_text() == "dag = 1\n"
    assert first.stat().st_mtime == T0.timestamp()  # dated as the DB dates it (the plan-processor compares)
    assert plans.sync().written == 0  # nothing changed: nothing written

    put(engine, 1, "dag = 1 changed\n", at=T0 + timedelta(minutes=2))
    with session_for(engine) as db:
        PlanFileStore(db).remove(2)
        db.commit()
    synced = plans.sync()
    assert (synced.written, synced.removed) == (1, 1)
    assert first.read_text() == "dag = 1 changed\n" and not (tmp_path / "host" / "plans" / "plan_2.py").exists()
    assert json.loads((tmp_path / "host" / MANIFEST).read_text()).keys() == {"1"}


def test_a_new_host_keeps_files_it_already_has_as_they_are(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No manifest yet (a new host, or the first sync after an upgrade): identical files stay untouched."""
    put(engine, 1, "dag = 1\n")
    existing = tmp_path / "host" / "plans" / "plan_1.py"
    existing.parent.mkdir(parents=True)
    existing.write_text("dag = 1\n")
    os.utime(existing, (1_000_000, 1_000_000))
    assert bundle(engine, tmp_path / "host", monkeypatch).sync().written == 0
    assert existing.stat().st_mtime == 1_000_000


def test_initialize_reads_through_an_airflow_connection_as_a_task_process_does(
    postgres_database: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's task may not use Airflow's DB session: the bundle's `conn_id` names the database."""
    if postgres_database is None:
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 as user postgres")
    from taskcenter.adapters.airflow import plan_bundle
    from taskcenter.adapters.store.models import Base

    engine = sa.create_engine(postgres_database)
    Base.metadata.create_all(engine)
    put(engine, 7, "dag = 7\n")
    url = sa.make_url(postgres_database)
    monkeypatch.setenv(
        "AIRFLOW_CONN_TASKCENTER_METADATA",
        json.dumps(
            {"conn_type": "postgres", "host": url.host, "port": url.port, "login": url.username,
             "password": url.password, "schema": url.database}
        ),
    )
    monkeypatch.setattr(plan_bundle, "_ENGINES", {})
    plans = PlanFilesBundle(name="taskcenter-plans", path=str(tmp_path / "worker"), conn_id="taskcenter_metadata")
    plans.initialize()
    assert (tmp_path / "worker" / "plans" / "plan_7.py").read_text() == "dag = 7\n"
    engine.dispose()
