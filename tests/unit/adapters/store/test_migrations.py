"""taskcenter's migrations: 0005 keeps every plan and item and stops id reuse (SQLite); 0007 names
each plan's DAG and adds the list indexes (SQLite and PostgreSQL); 0010 copies each DEPENDENCY item's
upstreams into rows the "who waits for this entity" reads use."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from taskcenter.adapters.store.db_manager import TaskCenterDBManager
from tests.unit.adapters.store.migration_helpers import NOW, add_plan, sqlite_engine, upgrade


def test_0005_keeps_plans_and_items_and_ids_are_never_reused(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "airflow.db")
    upgrade(engine, "0004_run_cancel")
    with engine.begin() as conn:
        add_plan(conn, 1, "1", items=2)
        add_plan(conn, 2, "2", items=1)
    upgrade(engine, "heads")

    with engine.begin() as conn:
        plans = conn.execute(sa.text("SELECT id, entity_key, title FROM taskcenter_plan ORDER BY id")).all()
        items = conn.execute(sa.text("SELECT plan_id, cron_desc FROM taskcenter_plan_item ORDER BY id")).all()
        assert [tuple(p) for p in plans] == [(1, "1", "1"), (2, "2", "2")]
        assert [tuple(i) for i in items] == [(1, "0 * * * * ?"), (1, "1 * * * * ?"), (2, "0 * * * * ?")]
        tables = {r[0] for r in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
        assert not {"taskcenter_plan_0004", "taskcenter_plan_item_0004"} & tables
        indexes = {r[0] for r in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        assert "ix_taskcenter_plan_item_plan_id" in indexes

        # Deleting the newest plan cascades to its items and does not free its id.
        conn.execute(sa.text("DELETE FROM taskcenter_plan WHERE id = 2"))
        assert conn.execute(sa.text("SELECT COUNT(*) FROM taskcenter_plan_item WHERE plan_id = 2")).scalar() == 0
        conn.execute(
            sa.text(
                "INSERT INTO taskcenter_plan (entity_group, entity_key, enabled, job_class, job_params, retry_times,"
                " created_at, updated_at, revision) VALUES ('NOTEBOOK', '3', 1, 'c', '{}', 0, :now, :now, 1)"
            ),
            {"now": NOW},
        )
        assert conn.execute(sa.text("SELECT id FROM taskcenter_plan WHERE entity_key = '3'")).scalar() == 3
    engine.dispose()


def test_0006_keeps_items_adds_history_columns_and_the_graph_lock(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "airflow.db")
    upgrade(engine, "0005_sqlite_autoincrement")
    with engine.begin() as conn:
        add_plan(conn, 1, "1", items=2)
        conn.execute(
            sa.text(
                "INSERT INTO taskcenter_run_cancel (dag_run_id, run_id, plan_id, cancelled_at) VALUES (7, "
                "'manual__x', 1, :now)"
            ),
            {"now": NOW},
        )
    upgrade(engine, "heads")

    with engine.begin() as conn:
        items = conn.execute(
            sa.text("SELECT plan_id, cron_desc, removed_at FROM taskcenter_plan_item ORDER BY id")
        ).all()
        assert [tuple(i) for i in items] == [(1, "0 * * * * ?", None), (1, "1 * * * * ?", None)]
        assert conn.execute(sa.text("SELECT clear_number FROM taskcenter_run_cancel")).scalar() == 0
        assert conn.execute(sa.text("SELECT name, revision FROM taskcenter_lock")).all() == [("plan_graph", 0)]
        # Still AUTOINCREMENT: the columns were added in place, not by rebuilding the tables.
        schema = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'taskcenter_plan_item'")).scalar()
        assert "AUTOINCREMENT" in schema
    engine.dispose()


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    """What `airflow db migrate` creates is what the ORM models expect (no drift between the two)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = sqlite_engine(tmp_path / "airflow.db")
    upgrade(engine, "heads")
    with engine.connect() as conn:
        version_table = TaskCenterDBManager.version_table_name
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda _obj, name, kind, *_: not (kind == "table" and name == version_table),
            },
        )
        differences = compare_metadata(context, TaskCenterDBManager.metadata)
    engine.dispose()
    assert differences == []
