"""Plans' DAG files in the database, so that hosts share no disk.

With Airflow's CeleryExecutor the dag-processor and the workers run on other hosts than the
api-server. Each plan's generated file is kept here (content and digest), written in the
transaction that changes the plan; every host writes its own copy from this table
(`taskcenter.adapters.airflow.plan_bundle.PlanFilesBundle`). Filled by `taskcenter reconcile`,
which runs at every start.

Revision ID: 0011_plan_files
Revises: 0010_plan_upstreams
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_plan_files"
down_revision = "0010_plan_upstreams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taskcenter_plan_file",
        sa.Column("plan_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("relative_path", sa.String(250), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name="pk_taskcenter_plan_file"),
    )


def downgrade() -> None:
    op.drop_table("taskcenter_plan_file")
