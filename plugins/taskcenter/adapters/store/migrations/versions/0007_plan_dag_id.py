"""Lists cost O(page): a plan names its DAG in a column, and the list filters have indexes.

* `taskcenter_plan.dag_id`: the plan's Airflow DAG id (`taskcenter_plan_<id>`), unique. Lists of
  runs and the job-status filters join Airflow's `dag_run` on it: `dag_run.dag_id` is indexed on
  Airflow's side, this column on ours, so the join is an index lookup either way (a join on
  `'taskcenter_plan_' || id` is not). Existing plans are backfilled here; new plans set it with
  their id (`PlanRepository.create`).
* Indexes for the filters the unique `(entity_group, entity_key)` index does not serve:
  `entity_key` alone and `entity_created_by` (`entityCreatedByList`, the `/users` endpoints).
* On PostgreSQL, an index of Airflow's `dag_run` on `(dag_id, id)`: a plan's job status is its
  newest run's, and Airflow's own index on `dag_id` alone makes finding that run read every run of
  the DAG from the table (a job-status filter over 10,000 plans with 10 runs each: 100,000 reads
  instead of 10,000 index probes). SQLite needs none: its `dag_id` index carries the row id, which
  is `dag_run.id`. The index is taskcenter's (named so, dropped on downgrade): `airflow db migrate`
  runs this migration after Airflow's own, and `airflow db reset` drops it with the table.

Columns and indexes are added in place (no batch rebuild): on SQLite a rebuild would drop the
AUTOINCREMENT of migration 0005.

Revision ID: 0007_plan_dag_id
Revises: 0006_history_and_locks
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_plan_dag_id"
down_revision = "0006_history_and_locks"
branch_labels = None
depends_on = None

# As `taskcenter.adapters.airflow.naming.DAG_ID_PREFIX` is today; a migration keeps its own copy.
DAG_ID_PREFIX = "taskcenter_plan_"
NEWEST_RUN_INDEX = "ix_taskcenter_dag_run_dag_id_id"


def upgrade() -> None:
    op.add_column("taskcenter_plan", sa.Column("dag_id", sa.String(250), nullable=True))
    plans = sa.table("taskcenter_plan", sa.column("id", sa.Integer()), sa.column("dag_id", sa.String(250)))
    op.execute(plans.update().values(dag_id=sa.literal(DAG_ID_PREFIX) + sa.cast(plans.c.id, sa.String(250))))
    op.create_index("ix_taskcenter_plan_dag_id", "taskcenter_plan", ["dag_id"], unique=True)
    op.create_index("ix_taskcenter_plan_entity_key", "taskcenter_plan", ["entity_key"])
    op.create_index("ix_taskcenter_plan_entity_created_by", "taskcenter_plan", ["entity_created_by"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(NEWEST_RUN_INDEX, "dag_run", ["dag_id", "id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(NEWEST_RUN_INDEX, table_name="dag_run")
    op.drop_index("ix_taskcenter_plan_entity_created_by", table_name="taskcenter_plan")
    op.drop_index("ix_taskcenter_plan_entity_key", table_name="taskcenter_plan")
    op.drop_index("ix_taskcenter_plan_dag_id", table_name="taskcenter_plan")
    # SQLite >= 3.35 drops a column in place; a batch rebuild would lose AUTOINCREMENT.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE taskcenter_plan DROP COLUMN dag_id")
    else:
        op.drop_column("taskcenter_plan", "dag_id")
