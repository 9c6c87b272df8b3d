"""The migration tests' tools, shared by the unit and the component tests: run taskcenter's alembic
migrations up or down on an engine, a SQLite engine configured as Airflow does, a plan row with its
items as an old revision stored them, and the reset of taskcenter's tables.

Pure: nothing here starts a process or opens a socket (the engines are the caller's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from taskcenter.adapters.store.db_manager import TaskCenterDBManager

NOW = "2026-11-25 00:00:00"
# taskcenter's tables, dependents first: dropped in this order, nothing refers to a dropped table.
TASKCENTER_TABLES = (
    "alembic_version_taskcenter",
    "taskcenter_lock",
    "taskcenter_run_cancel",
    "taskcenter_plan_file",
    "taskcenter_plan_upstream",
    "taskcenter_plan_item",
    "taskcenter_plan",
)


def _migrate(engine: sa.Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = Config(TaskCenterDBManager.alembic_file)
    config.set_main_option("script_location", TaskCenterDBManager.migration_dir)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def upgrade(engine: sa.Engine, revision: str) -> None:
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    _migrate(engine, command.downgrade, revision)


def sqlite_engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, _record) -> None:  # as Airflow configures SQLite
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


def add_plan(conn: sa.Connection, plan_id: int, key: str, items: int) -> None:
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


def drop_taskcenter_tables(conn: sa.Connection) -> None:
    """taskcenter's tables and its alembic version gone: the next upgrade starts from nothing."""
    for table in TASKCENTER_TABLES:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))


def create_dag_run_stub(conn: sa.Connection) -> None:
    """Airflow's `dag_run` as far as taskcenter's migrations use it (id, dag_id), unless it exists."""
    from airflow.models.dagrun import DagRun

    sa.Table(
        "dag_run",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in DagRun.__table__.c if c.name in ("id", "dag_id")),
    ).create(conn, checkfirst=True)
