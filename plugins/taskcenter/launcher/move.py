"""Moves a home's metadata DB from SQLite to the embedded PostgreSQL server, keeping everything.

Homes made before the embedded server kept Airflow's, FAB's and taskcenter's tables in
`airflow.db`. On their first start on PostgreSQL the launcher migrates an empty `airflow` database
to the same schema (`airflow db migrate`: same versions, same tables) and copies every row over,
table by table: plans, DAGs, runs, task instances, XComs, users, connections. Task logs and the
plans' DAG files are files of the home and stay where they are. The copy is checked (row counts)
before `airflow.db` is renamed to `airflow.db.moved-<time>`, which stays as a backup; if anything
fails, the SQLite file is untouched and the next start tries again on a fresh database.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

# Each side's schema version is its own (both were migrated by the same code).
_SKIPPED = {"alembic_version", "alembic_version_fab", "alembic_version_taskcenter"}
_BATCH = 2000


def _converter(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """What a SQLite value needs to become a value of the PostgreSQL column (None: as it is)."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return lambda v: v if v is None or isinstance(v, bool) else bool(int(v))
    if isinstance(kind, sa.Uuid) or type(kind).__name__.upper() == "UUID":
        return lambda v: (
            v
            if v is None or isinstance(v, uuid.UUID)
            else (uuid.UUID(bytes=v) if isinstance(v, bytes) else uuid.UUID(str(v)))
        )
    if isinstance(kind, sa.JSON):
        import json

        return lambda v: json.loads(v) if isinstance(v, (str, bytes)) else v
    return None


def copy_rows(*, sqlite_url: str, postgres_url: str) -> tuple[int, int]:
    """Copy every row of every table the PostgreSQL side has; returns (tables, rows) copied."""
    source = sa.create_engine(sqlite_url)
    target = sa.create_engine(postgres_url)
    tables = rows = 0
    try:
        source_meta = sa.MetaData()
        source_meta.reflect(source)
        target_meta = sa.MetaData()
        target_meta.reflect(target)
        with source.connect() as read, target.begin() as write:
            write.execute(sa.text("SET TIME ZONE 'UTC'"))  # SQLite keeps Airflow's times as naive UTC
            write.execute(sa.text("SET session_replication_role = replica"))  # rows arrive in any FK order
            for table in target_meta.sorted_tables:
                if table.name in _SKIPPED or table.name not in source_meta.tables:
                    continue
                write.execute(table.delete())  # rows `airflow db migrate` seeded (FAB roles, ...)
                source_table = source_meta.tables[table.name]
                columns = [c for c in table.columns if c.name in source_table.columns]
                convert = {c.name: _converter(c) for c in columns}
                result = read.execution_options(yield_per=_BATCH).execute(
                    sa.select(*(source_table.columns[c.name] for c in columns))
                )
                for chunk in result.partitions():
                    batch = [
                        {name: (f(value) if (f := convert[name]) else value) for name, value in row._mapping.items()}
                        for row in chunk
                    ]
                    write.execute(table.insert(), batch)
                    rows += len(batch)
                copied = write.scalar(sa.select(sa.func.count()).select_from(table))
                expected = read.scalar(sa.select(sa.func.count()).select_from(source_table))
                if copied != expected:
                    raise RuntimeError(f"table {table.name}: {copied} rows copied, {expected} expected")
                tables += 1
            write.execute(sa.text("SET session_replication_role = DEFAULT"))
            _advance_sequences(write, target_meta, used=_sqlite_sequences(read))
    finally:
        source.dispose()
        target.dispose()
    return tables, rows


def _sqlite_sequences(conn: sa.Connection) -> dict[str, int]:
    """The highest id each AUTOINCREMENT table ever handed out (a deleted plan's id included)."""
    try:
        return {name: int(seq) for name, seq in conn.execute(sa.text("SELECT name, seq FROM sqlite_sequence"))}
    except sa.exc.OperationalError:  # no AUTOINCREMENT table at all
        return {}


def _advance_sequences(conn: sa.Connection, meta: sa.MetaData, *, used: dict[str, int]) -> None:
    """Every id sequence continues after every id SQLite handed out (ids are never reused).

    A sequence belongs to a column either as its serial/identity (`pg_get_serial_sequence`) or by
    name only (FAB's models name theirs `<table>_<column>_seq` and call it explicitly).
    """
    sequences = set(conn.scalars(sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")))
    for table in meta.sorted_tables:
        for column in table.primary_key.columns:
            owned = conn.scalar(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table.name}"', "c": column.name}
            )
            named = f"{table.name}_{column.name}_seq"
            for sequence in {owned, f'"{named}"' if named in sequences else None} - {None}:
                highest = max(conn.scalar(sa.select(sa.func.max(column))) or 0, used.get(table.name, 0))
                if highest:
                    conn.execute(sa.text("SELECT setval(:s, :v)"), {"s": sequence, "v": int(highest)})


def retire_sqlite_file(path: Path) -> Path:
    """Rename the moved SQLite file so the home is a PostgreSQL home from now on (kept as a backup)."""
    backup = path.with_name(f"{path.name}.moved-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(backup)
    return backup
