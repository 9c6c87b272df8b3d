"""Plan title and entity creator, copied from the entity catalog for search and filters.

Revision ID: 0002_plan_entity_facts
Revises: 0001_plans
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_plan_entity_facts"
down_revision = "0001_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("taskcenter_plan") as batch:
        batch.add_column(sa.Column("title", sa.String(255), nullable=True))
        batch.add_column(sa.Column("entity_created_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("taskcenter_plan") as batch:
        batch.drop_column("entity_created_by")
        batch.drop_column("title")
