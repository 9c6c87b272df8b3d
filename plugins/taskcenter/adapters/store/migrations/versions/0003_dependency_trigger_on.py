"""DEPENDENCY items: fire on the upstream's success (default) or on any end (`triggerOn`).

Revision ID: 0003_dependency_trigger_on
Revises: 0002_plan_entity_facts
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_dependency_trigger_on"
down_revision = "0002_plan_entity_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("taskcenter_plan_item") as batch:
        batch.add_column(sa.Column("trigger_on", sa.String(16), nullable=True))
    op.execute("UPDATE taskcenter_plan_item SET trigger_on = 'SUCCESSFUL' WHERE trigger_type = 'DEPENDENCY'")


def downgrade() -> None:
    with op.batch_alter_table("taskcenter_plan_item") as batch:
        batch.drop_column("trigger_on")
