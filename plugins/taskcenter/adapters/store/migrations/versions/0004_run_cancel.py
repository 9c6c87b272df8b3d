"""Runs ended through cancel (Airflow has no cancelled state for DAG runs).

Revision ID: 0004_run_cancel
Revises: 0003_dependency_trigger_on
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_run_cancel"
down_revision = "0003_dependency_trigger_on"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taskcenter_run_cancel",
        sa.Column("dag_run_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("dag_run_id", name="pk_taskcenter_run_cancel"),
    )
    op.create_index("ix_taskcenter_run_cancel_plan_id", "taskcenter_run_cancel", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_taskcenter_run_cancel_plan_id", table_name="taskcenter_run_cancel")
    op.drop_table("taskcenter_run_cancel")
