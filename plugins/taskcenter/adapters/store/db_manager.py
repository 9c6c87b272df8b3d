"""Runs taskcenter's alembic migrations inside `airflow db migrate`.

Airflow 3.3 calls every DB manager a provider declares (`db-managers` in provider info). Unlike
Airflow's default, which creates a fresh schema from the ORM and stamps it, this manager always
applies the migration files, so the path a new install takes is the path an upgrade takes.
"""

from __future__ import annotations

from pathlib import Path

from airflow.utils.db_manager import BaseDBManager

from taskcenter.adapters.store.models import Base

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class TaskCenterDBManager(BaseDBManager):
    metadata = Base.metadata
    version_table_name = "alembic_version_taskcenter"
    migration_dir = _MIGRATIONS.as_posix()
    alembic_file = (_MIGRATIONS / "alembic.ini").as_posix()
    supports_table_dropping = True

    def create_db_from_orm(self) -> None:
        self.upgradedb()

    def initdb(self, use_migration_files: bool = False) -> None:
        self.upgradedb()

    def upgradedb(
        self,
        to_revision: str | None = None,
        from_revision: str | None = None,
        show_sql_only: bool = False,
        use_migration_files: bool = False,
    ) -> None:
        from alembic import command

        self.log.info("Upgrading the taskcenter tables")
        self._release_metadata_locks_if_needed()
        command.upgrade(self.get_alembic_config(), revision=to_revision or "heads", sql=show_sql_only)

    def downgrade(self, to_revision: str, from_revision: str | None = None, show_sql_only: bool = False) -> None:
        from alembic import command

        command.downgrade(self.get_alembic_config(), revision=to_revision, sql=show_sql_only)
