"""ORM models of taskcenter's tables.

They use their own MetaData (not Airflow's) so that Airflow's migrations never touch them and
the DB manager can check they do not collide with Airflow's tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PlanRow(Base):
    """One execution plan (执行计划): one per (entity_group, entity_key), materialized as one DAG."""

    __tablename__ = "taskcenter_plan"
    # sqlite_autoincrement: ids are never reused after a delete (migration 0005).
    __table_args__ = (
        UniqueConstraint("entity_group", "entity_key", name="uq_taskcenter_plan_entity"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_group: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_key: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    # The plan's Airflow DAG id (`taskcenter_plan_<id>`), set with the id: lists join Airflow's
    # `dag_run` on it, through an index on either side (migration 0007).
    dag_id: Mapped[str | None] = mapped_column(String(250), nullable=True, unique=True, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    job_class: Mapped[str] = mapped_column(String(255), nullable=False)
    job_params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    retry_times: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Copied from the entity catalog on every write, so listings can search and filter in SQL.
    title: Mapped[str | None] = mapped_column(String(255), nullable=True)
    entity_created_by: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Bumped on every change: concurrent writers detect a lost update instead of causing one.
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    # Every item ever written (replaced triggers and ONCE history included), for cascades only.
    items: Mapped[list[PlanItemRow]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanItemRow.id"
    )
    # What a plan read needs: its current CRON_JOB and DEPENDENCY triggers. Run-now history grows
    # with every run and is read one item at a time (a context's planItem), never with the plan.
    triggers: Mapped[list[PlanItemRow]] = relationship(
        primaryjoin="and_(PlanRow.id == PlanItemRow.plan_id, PlanItemRow.trigger_type != 'ONCE', "
        "PlanItemRow.removed_at.is_(None))",
        order_by="PlanItemRow.id",
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": revision}


class PlanItemRow(Base):
    """One trigger (任务触发条目) of a plan: a cron entry, a dependency, or a run-now (ONCE)."""

    __tablename__ = "taskcenter_plan_item"
    __table_args__ = (
        # Every plan write reads the DEPENDENCY items only (migration 0008).
        Index("ix_taskcenter_plan_item_trigger", "trigger_type", "trigger_on"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("taskcenter_plan.id", ondelete="CASCADE"), nullable=False, index=True
    )
    trigger_type: Mapped[str] = mapped_column(String(16), nullable=False)
    cron_desc: Mapped[str | None] = mapped_column(String(255), nullable=True)
    cron_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    trigger_by_jobs: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    trigger_on: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Set when a write replaced this trigger; the row stays so the runs it fired still name it.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    plan: Mapped[PlanRow] = relationship(back_populates="items")
    # A DEPENDENCY item's upstreams as rows, for indexed "who waits for this entity" reads.
    upstream_rows: Mapped[list[PlanUpstreamRow]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class PlanUpstreamRow(Base):
    """One upstream entity of a DEPENDENCY item (a copy of its `trigger_by_jobs`, migration 0010).

    "Does any plan wait for this entity?" is asked with every publish of a plan and "which plans
    depend on it?" with every delete: both are one indexed lookup here, not a read of every
    dependency item's JSON.
    """

    __tablename__ = "taskcenter_plan_upstream"
    __table_args__ = (Index("ix_taskcenter_plan_upstream_entity", "entity_group", "entity_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("taskcenter_plan_item.id", ondelete="CASCADE"), nullable=False, index=True
    )
    entity_group: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_key: Mapped[str] = mapped_column(String(128), nullable=False)


class PlanFileRow(Base):
    """A plan's generated DAG file as every host gets it (migration 0011).

    The api-server writes the file's content here in the transaction that changes the plan; each
    host that parses or runs plan DAGs writes its own copy from this table (`PlanFilesBundle`), so
    no disk is shared between hosts.
    """

    __tablename__ = "taskcenter_plan_file"

    plan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    relative_path: Mapped[str] = mapped_column(String(250), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RunCancelRow(Base):
    """A cancel of a DAG run: who asked and when, and whether the request itself ended the run."""

    __tablename__ = "taskcenter_run_cancel"

    dag_run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The run's Airflow run id too: SQLite may hand a deleted run's integer id to a new run.
    run_id: Mapped[str] = mapped_column(String(250), nullable=False)
    plan_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    cancelled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    cancelled_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The run's `clear_number` then: a run cleared (re-run) after the cancel is not CANCELLED.
    clear_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # "stopped": the request itself ended the run (nothing of it had started). NULL: the job was
    # asked to stop; it is CANCELLED once its run ended and its own marker says it stopped.
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)


class LockRow(Base):
    """A named lock: writers that must not interleave update its row first (see migration 0006)."""

    __tablename__ = "taskcenter_lock"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
