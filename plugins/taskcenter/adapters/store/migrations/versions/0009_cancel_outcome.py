"""How a cancel ended: a cancel now stops the job before the run ends.

Cancel used to end the run at once (Airflow's "mark failed") while the job's process lived on
for seconds and could finish its work. Now a running job is asked to stop and the run ends when
its processes are gone; only then is it CANCELLED, and only if the job stopped for the cancel
(a job that finished first keeps its status). `outcome` is "stopped" when the request itself
ended the run (nothing of it had started) and NULL while the job decides (the job's own marker,
an XCom, then says it stopped). Records written before this revision ended their run at once:
they are "stopped".

Revision ID: 0009_cancel_outcome
Revises: 0008_dependency_item_index
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_cancel_outcome"
down_revision = "0008_dependency_item_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("taskcenter_run_cancel") as table:
        table.add_column(sa.Column("outcome", sa.String(16), nullable=True))
    op.execute("UPDATE taskcenter_run_cancel SET outcome = 'stopped'")


def downgrade() -> None:
    with op.batch_alter_table("taskcenter_run_cancel") as table:
        table.drop_column("outcome")
