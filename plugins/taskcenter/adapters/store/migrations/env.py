"""Alembic environment of taskcenter's tables (own version table, own metadata)."""

from __future__ import annotations

import contextlib

from airflow import settings
from alembic import context

from taskcenter.adapters.store.db_manager import TaskCenterDBManager

config = context.config
target_metadata = TaskCenterDBManager.metadata
version_table = TaskCenterDBManager.version_table_name


def include_object(_obj, name, type_, *args) -> bool:
    return not (type_ == "table" and name not in target_metadata.tables)


def run_migrations_offline() -> None:
    context.configure(
        url=settings.SQL_ALCHEMY_CONN,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        version_table=version_table,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with contextlib.ExitStack() as stack:
        connection = config.attributes.get("connection")
        if not connection:
            if settings.engine is None:
                raise RuntimeError("Airflow's settings have no engine (settings.configure_orm was not called)")
            connection = stack.enter_context(settings.engine.connect())
        context.configure(
            connection=connection,
            transaction_per_migration=True,
            target_metadata=target_metadata,
            render_as_batch=True,
            version_table=version_table,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
