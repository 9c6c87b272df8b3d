"""taskcenter's migrations on SQLite and PostgreSQL: 0007 names each plan's DAG and adds the list
indexes; 0010 copies each DEPENDENCY item's upstreams into the rows the "who waits for this entity"
reads use."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.unit.adapters.store.migration_helpers import (
    NOW,
    add_plan,
    create_dag_run_stub,
    downgrade,
    drop_taskcenter_tables,
    sqlite_engine,
    upgrade,
)

pytest_plugins = ("tests.component.database_fixtures",)  # `postgres_database`


def _engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> sa.Engine:
    """A SQLite file in `tmp_path`, or the throw-away PostgreSQL database (skipped when no server answers)."""
    if backend == "sqlite":
        return sqlite_engine(tmp_path / "airflow.db")
    url = request.getfixturevalue("postgres_database")
    if url is None:
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 as user postgres")
    return sa.create_engine(url)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0007_names_every_plans_dag_and_indexes_the_lists(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    engine = _engine(backend, tmp_path, request)
    with engine.begin() as conn:  # what Airflow's migrations made before taskcenter's run
        drop_taskcenter_tables(conn)
        create_dag_run_stub(conn)
    upgrade(engine, "0006_history_and_locks")
    with engine.begin() as conn:
        add_plan(conn, 1, "1", items=0)
        add_plan(conn, 7, "7", items=1)
    upgrade(engine, "heads")
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
    downgrade(engine, "0006_history_and_locks")
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

    engine = _engine(backend, tmp_path, request)
    if backend == "postgres":
        with engine.begin() as conn:
            drop_taskcenter_tables(conn)
    with engine.begin() as conn:
        create_dag_run_stub(conn)
    upgrade(engine, "0009_cancel_outcome")
    with engine.begin() as conn:
        add_plan(conn, 1, "1", items=1)
        add_plan(conn, 2, "2", items=0)
        dependency = (
            "INSERT INTO taskcenter_plan_item (plan_id, trigger_type, trigger_by_jobs, trigger_on, "
            "created_at, updated_at,"
            " removed_at) VALUES (2, 'DEPENDENCY', :refs, :on, :now, :now, :removed)"
        )
        on_one = '[{"entityGroup": "NOTEBOOK", "entityKey": "1"}, {"entityGroup": "PIPELINE", "entityKey": "9"}]'
        conn.execute(sa.text(dependency), {"refs": on_one, "on": "FINISHED", "now": NOW, "removed": None})
        replaced = '[{"entityGroup": "NOTEBOOK", "entityKey": "5"}]'
        conn.execute(sa.text(dependency), {"refs": replaced, "on": "FINISHED", "now": NOW, "removed": NOW})
    upgrade(engine, "heads")
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

