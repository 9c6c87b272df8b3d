"""taskcenter's migrations on SQLite and PostgreSQL: 0007 names each plan's DAG and adds the list
indexes; 0010 copies each DEPENDENCY item's upstreams into the rows the "who waits for this entity"
reads use."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from taskcenter.adapters.store.db_manager import TaskCenterDBManager

NOW = "2026-11-25 00:00:00"

pytest_plugins = ("tests.component.database_fixtures",)  # `postgres_database`


def _upgrade(engine: sa.Engine, revision: str) -> None:
    config = Config(TaskCenterDBManager.alembic_file)
    config.set_main_option("script_location", TaskCenterDBManager.migration_dir)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, _record) -> None:  # as Airflow configures SQLite
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


def _add_plan(conn: sa.Connection, plan_id: int, key: str, items: int) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO taskcenter_plan (id, entity_group, entity_key, enabled, job_class, job_params, retry_times,"
            " created_at, updated_at, revision, title) VALUES (:id, 'NOTEBOOK', :key, TRUE, 'c', '{}', 0, "
            ":now, :now, 1, :key)"
        ),
        {"id": plan_id, "key": key, "now": NOW},
    )
    for n in range(items):
        conn.execute(
            sa.text(
                "INSERT INTO taskcenter_plan_item (plan_id, trigger_type, cron_desc, created_at, updated_at, "
                "trigger_on)"
                " VALUES (:plan, 'CRON_JOB', :cron, :now, :now, NULL)"
            ),
            {"plan": plan_id, "cron": f"{n} * * * * ?", "now": NOW},
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0007_names_every_plans_dag_and_indexes_the_lists(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        engine = _engine(tmp_path / "airflow.db")
    else:
        url = request.getfixturevalue("postgres_database")
        if url is None:
            pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 as user postgres")
        engine = sa.create_engine(url)
    from airflow.models.dagrun import DagRun

    with engine.begin() as conn:  # what Airflow's migrations made before taskcenter's run
        tables = (
            "alembic_version_taskcenter",
            "taskcenter_lock",
            "taskcenter_run_cancel",
            "taskcenter_plan_file",
            "taskcenter_plan_upstream",
            "taskcenter_plan_item",
            "taskcenter_plan",
        )
        for table in tables:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        sa.Table(
            "dag_run",
            sa.MetaData(),
            *(sa.Column(c.name, c.type) for c in DagRun.__table__.c if c.name in ("id", "dag_id")),
        ).create(conn, checkfirst=True)
    _upgrade(engine, "0006_history_and_locks")
    with engine.begin() as conn:
        _add_plan(conn, 1, "1", items=0)
        _add_plan(conn, 7, "7", items=1)
    _upgrade(engine, "heads")
    with engine.begin() as conn:
        named = conn.execute(sa.text("SELECT id, dag_id FROM taskcenter_plan ORDER BY id")).all()
        assert [tuple(r) for r in named] == [(1, "taskcenter_plan_1"), (7, "taskcenter_plan_7")]
    indexes = {i["name"]: i for i in sa.inspect(engine).get_indexes("taskcenter_plan")}
    assert indexes["ix_taskcenter_plan_dag_id"]["unique"] and indexes["ix_taskcenter_plan_dag_id"]["column_names"] == [
        "dag_id"
    ]
    assert {"ix_taskcenter_plan_entity_key", "ix_taskcenter_plan_entity_created_by"} <= set(indexes)
    runs = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("dag_run")}
    assert runs.get("ix_taskcenter_dag_run_dag_id_id") == (["dag_id", "id"] if backend == "postgres" else None)
    _upgrade_down(engine, "0006_history_and_locks")
    assert "ix_taskcenter_dag_run_dag_id_id" not in {i["name"] for i in sa.inspect(engine).get_indexes("dag_run")}
    assert "dag_id" not in {c["name"] for c in sa.inspect(engine).get_columns("taskcenter_plan")}
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0010_copies_the_upstreams_of_dependency_items_for_the_store_reads(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    from sqlalchemy.orm import Session

    from taskcenter.adapters.store.plans import PlanRepository
    from taskcenter.domain.plans import EntityRef

    if backend == "sqlite":
        engine = _engine(tmp_path / "airflow.db")
    else:
        url = request.getfixturevalue("postgres_database")
        if url is None:
            pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 as user postgres")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for table in (
                "alembic_version_taskcenter",
                "taskcenter_lock",
                "taskcenter_run_cancel",
                "taskcenter_plan_file",
                "taskcenter_plan_upstream",
                "taskcenter_plan_item",
                "taskcenter_plan",
            ):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    from airflow.models.dagrun import DagRun

    with engine.begin() as conn:
        sa.Table(
            "dag_run",
            sa.MetaData(),
            *(sa.Column(c.name, c.type) for c in DagRun.__table__.c if c.name in ("id", "dag_id")),
        ).create(conn, checkfirst=True)
    _upgrade(engine, "0009_cancel_outcome")
    with engine.begin() as conn:
        _add_plan(conn, 1, "1", items=1)
        _add_plan(conn, 2, "2", items=0)
        dependency = (
            "INSERT INTO taskcenter_plan_item (plan_id, trigger_type, trigger_by_jobs, trigger_on, "
            "created_at, updated_at,"
            " removed_at) VALUES (2, 'DEPENDENCY', :refs, :on, :now, :now, :removed)"
        )
        on_one = '[{"entityGroup": "NOTEBOOK", "entityKey": "1"}, {"entityGroup": "PIPELINE", "entityKey": "9"}]'
        conn.execute(sa.text(dependency), {"refs": on_one, "on": "FINISHED", "now": NOW, "removed": None})
        replaced = '[{"entityGroup": "NOTEBOOK", "entityKey": "5"}]'
        conn.execute(sa.text(dependency), {"refs": replaced, "on": "FINISHED", "now": NOW, "removed": NOW})
    _upgrade(engine, "heads")
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT entity_group, entity_key FROM taskcenter_plan_upstream ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("NOTEBOOK", "1"), ("PIPELINE", "9"), ("NOTEBOOK", "5")]
    with Session(engine) as db:
        store = PlanRepository(db)
        waiting = EntityRef(entity_group="NOTEBOOK", entity_key="1")
        assert store.finished_subscribers(waiting) and store.dependents(waiting) == [
            EntityRef(entity_group="NOTEBOOK", entity_key="2")
        ]
        gone = EntityRef(entity_group="NOTEBOOK", entity_key="5")  # only a replaced item named it
        assert not store.finished_subscribers(gone) and store.dependents(gone) == []
    engine.dispose()


def _upgrade_down(engine: sa.Engine, revision: str) -> None:
    config = Config(TaskCenterDBManager.alembic_file)
    config.set_main_option("script_location", TaskCenterDBManager.migration_dir)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
