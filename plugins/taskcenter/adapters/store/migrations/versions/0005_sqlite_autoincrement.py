"""On SQLite, plan and plan item ids are never reused (AUTOINCREMENT).

Without AUTOINCREMENT SQLite hands out max(id) + 1, so deleting the newest plan made its id (and
its DAG id) come back for the next plan, and a client holding the old id would address the new
plan. PostgreSQL sequences never go back; nothing changes there.

SQLite cannot add AUTOINCREMENT to a table, so both tables are rebuilt. The order keeps the plan
items: renaming a table repoints the foreign keys that reference it (SQLite >= 3.26), so the old
parent is dropped only once no table references it, and ON DELETE CASCADE never fires.

Revision ID: 0005_sqlite_autoincrement
Revises: 0004_run_cancel
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0005_sqlite_autoincrement"
down_revision = "0004_run_cancel"
branch_labels = None
depends_on = None

PLAN_COLUMNS = (
    "id, entity_group, entity_key, enabled, job_class, job_params, retry_times, created_at, created_by,"
    " updated_at, updated_by, revision, title, entity_created_by"
)
ITEM_COLUMNS = (
    "id, plan_id, trigger_type, cron_desc, cron_type, time_zone, trigger_by_jobs, created_at, created_by,"
    " updated_at, updated_by, trigger_on"
)
CREATE_PLAN = """
CREATE TABLE taskcenter_plan (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    entity_group VARCHAR(32) NOT NULL,
    entity_key VARCHAR(128) NOT NULL,
    enabled BOOLEAN NOT NULL,
    job_class VARCHAR(255) NOT NULL,
    job_params JSON NOT NULL,
    retry_times INTEGER NOT NULL,
    created_at DATETIME NOT NULL,
    created_by INTEGER,
    updated_at DATETIME NOT NULL,
    updated_by INTEGER,
    revision INTEGER NOT NULL,
    title VARCHAR(255),
    entity_created_by INTEGER,
    CONSTRAINT uq_taskcenter_plan_entity UNIQUE (entity_group, entity_key)
)"""
CREATE_ITEM = """
CREATE TABLE taskcenter_plan_item (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL,
    trigger_type VARCHAR(16) NOT NULL,
    cron_desc VARCHAR(255),
    cron_type VARCHAR(16),
    time_zone VARCHAR(64),
    trigger_by_jobs JSON,
    created_at DATETIME NOT NULL,
    created_by INTEGER,
    updated_at DATETIME NOT NULL,
    updated_by INTEGER,
    trigger_on VARCHAR(16),
    CONSTRAINT fk_taskcenter_plan_item_plan_id_taskcenter_plan FOREIGN KEY (plan_id)
        REFERENCES taskcenter_plan (id) ON DELETE CASCADE
)"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in (
        "ALTER TABLE taskcenter_plan RENAME TO taskcenter_plan_0004",  # items now reference _0004
        CREATE_PLAN,
        f"INSERT INTO taskcenter_plan ({PLAN_COLUMNS}) SELECT {PLAN_COLUMNS} FROM taskcenter_plan_0004",
        "DROP INDEX IF EXISTS ix_taskcenter_plan_item_plan_id",
        "ALTER TABLE taskcenter_plan_item RENAME TO taskcenter_plan_item_0004",
        CREATE_ITEM,
        f"INSERT INTO taskcenter_plan_item ({ITEM_COLUMNS}) SELECT {ITEM_COLUMNS} FROM taskcenter_plan_item_0004",
        "DROP TABLE taskcenter_plan_item_0004",  # a child: dropping it deletes nothing elsewhere
        "DROP TABLE taskcenter_plan_0004",  # referenced by nothing any more
        "CREATE INDEX ix_taskcenter_plan_item_plan_id ON taskcenter_plan_item (plan_id)",
    ):
        op.execute(statement)


def downgrade() -> None:
    """AUTOINCREMENT tables serve the older code unchanged."""
