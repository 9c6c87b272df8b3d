"""Replaced triggers stay readable, cancels follow re-runs, and writes of the dependency graph serialize.

* `taskcenter_plan_item.removed_at`: a trigger a write replaced is kept (soft-deleted), so a run it
  fired still names it as its `planItem`.
* `taskcenter_run_cancel.clear_number`: the run's Airflow `clear_number` when it was cancelled; a
  run cleared (re-run) afterwards is no longer CANCELLED.
* `taskcenter_lock`: one row per named lock; a write that adds DEPENDENCY items updates the
  `plan_graph` row first, which serializes such writes on every backend (a row lock on PostgreSQL,
  the write lock on SQLite), so two concurrent writes cannot together store a dependency cycle.

Columns are added with plain ALTER TABLE (no batch rebuild): on SQLite a rebuild would drop the
AUTOINCREMENT of migration 0005.

Revision ID: 0006_history_and_locks
Revises: 0005_sqlite_autoincrement
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_history_and_locks"
down_revision = "0005_sqlite_autoincrement"
branch_labels = None
depends_on = None

PLAN_GRAPH_LOCK = "plan_graph"


def upgrade() -> None:
    op.add_column("taskcenter_plan_item", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "taskcenter_run_cancel", sa.Column("clear_number", sa.Integer(), nullable=False, server_default="0")
    )
    lock = op.create_table(
        "taskcenter_lock",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_taskcenter_lock"),
    )
    op.bulk_insert(lock, [{"name": PLAN_GRAPH_LOCK, "revision": 0}])


def _drop_column(table: str, column: str) -> None:
    # SQLite >= 3.35 drops a column in place; a batch rebuild would lose AUTOINCREMENT.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    op.drop_table("taskcenter_lock")
    _drop_column("taskcenter_run_cancel", "clear_number")
    # Replaced triggers were deleted before this revision.
    op.execute("DELETE FROM taskcenter_plan_item WHERE removed_at IS NOT NULL")
    _drop_column("taskcenter_plan_item", "removed_at")
