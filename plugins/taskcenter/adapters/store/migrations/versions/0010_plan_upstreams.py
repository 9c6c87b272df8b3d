"""DEPENDENCY items' upstreams as rows, for indexed "who waits for this entity" reads.

Every publish of a plan asked whether some plan waits for its entity's runs to end, and every
delete which plans depend on it; both read every dependency item and searched its JSON list of
upstreams, so each write cost more with each dependency stored. One row per (item, upstream
entity), indexed by entity, makes both one lookup. The JSON column stays the item's own record;
the rows are filled from it here and written with it from now on.

Revision ID: 0010_plan_upstreams
Revises: 0009_cancel_outcome
Create Date: 2026-12-03
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0010_plan_upstreams"
down_revision = "0009_cancel_outcome"
branch_labels = None
depends_on = None

TABLE = "taskcenter_plan_upstream"


def upgrade() -> None:
    upstreams = op.create_table(
        TABLE,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey(
                "taskcenter_plan_item.id",
                ondelete="CASCADE",
                name="fk_taskcenter_plan_upstream_item_id_taskcenter_plan_item",
            ),
            nullable=False,
        ),
        sa.Column("entity_group", sa.String(32), nullable=False),
        sa.Column("entity_key", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_taskcenter_plan_upstream"),
    )
    op.create_index("ix_taskcenter_plan_upstream_item_id", TABLE, ["item_id"])
    op.create_index("ix_taskcenter_plan_upstream_entity", TABLE, ["entity_group", "entity_key"])
    items = op.get_bind().execute(
        sa.text("SELECT id, trigger_by_jobs FROM taskcenter_plan_item WHERE trigger_type = 'DEPENDENCY'")
    )
    rows = []
    for item_id, refs in items:
        if isinstance(refs, str):  # SQLite hands JSON back as text through a raw statement
            refs = json.loads(refs)
        for ref in refs or ():
            rows.append({"item_id": item_id, "entity_group": ref["entityGroup"], "entity_key": ref["entityKey"]})
    if rows:
        op.bulk_insert(upstreams, rows)


def downgrade() -> None:
    op.drop_table(TABLE)
