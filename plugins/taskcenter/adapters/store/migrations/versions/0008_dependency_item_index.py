"""An index for the dependency reads every plan write makes.

Each write of a plan asks whether some plan waits for its entity's runs to end (triggerOn
FINISHED: the plan's DAG then emits a "finished" event), and a write with DEPENDENCY triggers
reads the dependency graph to refuse cycles. Both read the DEPENDENCY items only; without an index
that read went over every item of every plan (cron items are most of them), so each write cost
more with each plan stored. `(trigger_type, trigger_on)` serves both.

Revision ID: 0008_dependency_item_index
Revises: 0007_plan_dag_id
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0008_dependency_item_index"
down_revision = "0007_plan_dag_id"
branch_labels = None
depends_on = None

INDEX = "ix_taskcenter_plan_item_trigger"


def upgrade() -> None:
    op.create_index(INDEX, "taskcenter_plan_item", ["trigger_type", "trigger_on"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="taskcenter_plan_item")
