"""Plans and plan items.

Revision ID: 0001_plans
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_plans"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taskcenter_plan",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entity_group", sa.String(32), nullable=False),
        sa.Column("entity_key", sa.String(128), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("job_class", sa.String(255), nullable=False),
        sa.Column("job_params", sa.JSON(), nullable=False),
        sa.Column("retry_times", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_taskcenter_plan"),
        sa.UniqueConstraint("entity_group", "entity_key", name="uq_taskcenter_plan_entity"),
    )
    op.create_table(
        "taskcenter_plan_item",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("trigger_type", sa.String(16), nullable=False),
        sa.Column("cron_desc", sa.String(255), nullable=True),
        sa.Column("cron_type", sa.String(16), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("trigger_by_jobs", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_taskcenter_plan_item"),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["taskcenter_plan.id"],
            name="fk_taskcenter_plan_item_plan_id_taskcenter_plan",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_taskcenter_plan_item_plan_id", "taskcenter_plan_item", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_taskcenter_plan_item_plan_id", table_name="taskcenter_plan_item")
    op.drop_table("taskcenter_plan_item")
    op.drop_table("taskcenter_plan")
