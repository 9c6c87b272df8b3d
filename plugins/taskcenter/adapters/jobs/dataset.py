"""DATASET and APP_REFRESH: refresh a dataset into the dataset engine DB.

A dataset's definition names its source connection, its query and its engine table:
`{"source": "<conn id>", "query": "SELECT ...", "table": "<engine table>", "watermark": "<column>"}`.
The engine is an Airflow connection too (`[taskcenter] engine_conn_id`), so the same code runs on
the embedded SQLite file and on PostgreSQL.

- ALL loads the query's rows into a staging table of its own (`<table>__loading_<token>`, so two
  refreshes of a dataset never write into one), then swaps it in with one transaction (drop the
  old table, rename the staging one; swaps of a table take turns): readers see the old rows or
  the new ones, never a mix. A refresh that fails drops its staging table.
- INCREMENTAL appends the rows whose watermark column is past the engine table's maximum, in one
  transaction that holds the dataset's lock from reading the maximum to the last row: two
  refreshes of one dataset (two runs of its plan, or its plan and its app's) append one after the
  other, never the same rows twice, and a failed append leaves the table as it was. The first
  refresh (no table yet) loads everything.

Every refresh records the table's row count and size in `taskcenter_dataset_stats`, the source of
the plans' `diskUsage` and `datasetCount`. Rows are fetched `fetchSize` at a time (default 1,000),
with an optional `batchPauseSeconds` between fetches to spare a busy source. A cancelled refresh
changes nothing: it stops before the next batch and before the swap or the append's commit
(`job.checkpoint`), and its staging table is dropped.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from taskcenter.adapters.jobs.base import JobDefinitionError, JobRun, batch_pause, table
from taskcenter.domain.catalog import Entity, app_datasets

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

Checkpoint = Callable[[str], None]
STATS_TABLE = "taskcenter_dataset_stats"
FETCH_BATCH = 1000
RESULT_ROWS = 100
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True, kw_only=True)
class DatasetDefinition:
    key: str
    title: str
    source: str
    query: str
    table: str
    incremental: bool
    watermark: str | None
    fetch_size: int = FETCH_BATCH
    batch_pause: float = 0.0

    @classmethod
    def of(cls, entity: Entity) -> DatasetDefinition:
        spec = dict(entity.definition)
        missing = [name for name in ("source", "query", "table") if not spec.get(name)]
        if missing:
            raise JobDefinitionError(f"dataset {entity.key}: definition lacks {', '.join(missing)}")
        incremental = (entity.update_method or "ALL").upper() == "INCREMENTAL"
        watermark = spec.get("watermark")
        if incremental and not watermark:
            raise JobDefinitionError(f"dataset {entity.key}: INCREMENTAL needs a 'watermark' column")
        for name in filter(None, (spec["table"], watermark)):
            if not _IDENTIFIER.match(str(name)):
                raise JobDefinitionError(f"dataset {entity.key}: {name!r} is not a plain SQL identifier")
        fetch_size = spec.get("fetchSize", FETCH_BATCH)
        if isinstance(fetch_size, bool) or not isinstance(fetch_size, int) or not 1 <= fetch_size <= 100_000:
            raise JobDefinitionError(
                f"dataset {entity.key}: fetchSize must be an integer from 1 to 100000, got {fetch_size!r}"
            )
        pause = batch_pause(spec, where=f"dataset {entity.key}")
        return cls(
            key=entity.key,
            title=entity.title,
            source=str(spec["source"]),
            query=str(spec["query"]).strip().rstrip(";"),
            table=str(spec["table"]),
            incremental=incremental,
            watermark=str(watermark) if watermark else None,
            fetch_size=fetch_size,
            batch_pause=pause,
        )


def engine_conn_id(job: JobRun) -> str:
    return job.option("engine_conn_id")


def dataset_entity(job: JobRun, app: Any, dataset: Any) -> Entity:
    return job.entity("DATASET", f"{app}-{dataset}")


def run(job: JobRun) -> None:
    """DATASET job: `{"app": A, "dataset": D}` refreshes dataset `A-D`."""
    entity = dataset_entity(job, job.param("app"), job.param("dataset"))
    refresh(job, entity)


def run_app_refresh(job: JobRun) -> None:
    """APP_REFRESH job, one mapped task per dataset: `job.sub_key` is the dataset's key."""
    app = job.param("app")
    if job.sub_key is None:  # not mapped (e.g. a deployment's own DAG): refresh them one by one
        datasets = app_datasets(job.catalog, app)
        if not datasets:
            raise JobDefinitionError(f"app {app} has no datasets in the entity catalog")
        for entity in datasets:
            refresh(job, entity)
        return
    refresh(job, job.entity("DATASET", job.sub_key))


def refresh(job: JobRun, entity: Entity) -> dict[str, Any]:
    definition = DatasetDefinition.of(entity)
    log = job.step_log(entity.key)
    engine = job.sql_engine(engine_conn_id(job))
    source = job.sql_engine(definition.source)
    started = time.monotonic()
    exists = _table_exists(engine, definition.table)
    if definition.incremental and exists:
        loaded = _append(source, engine, definition, log, job.checkpoint)
    else:
        mode = "INCREMENTAL (first load)" if definition.incremental else "ALL"
        log.info(
            "dataset %s (%s): %s refresh from %s into %s",
            entity.key,
            definition.title,
            mode,
            definition.source,
            definition.table,
        )
        loaded = _replace(source, engine, definition, log, job.checkpoint)
    stats = record_stats(engine, definition)
    log.info(
        "dataset %s: %s rows loaded, %s rows in %s (%s bytes) in %.2f s",
        entity.key, loaded, stats["rows"], definition.table, stats["bytes"], time.monotonic() - started,
    )
    columns, rows = _head(engine, definition.table, RESULT_ROWS)
    job.publish(entity.key, table(columns, rows))
    return stats


def preview(job: JobRun, entity: Entity, *, limit: int = 20) -> tuple[list[str], list[list[Any]]]:
    """The dataset's columns and first rows: from the engine when refreshed, else live from its source."""
    definition = DatasetDefinition.of(entity)
    engine = job.sql_engine(engine_conn_id(job))
    if _table_exists(engine, definition.table):
        return _head(engine, definition.table, limit)
    from sqlalchemy import text

    with job.sql_engine(definition.source).connect() as conn:
        result = conn.execute(text(definition.query))
        return list(result.keys()), [list(r) for r in result.fetchmany(limit)]


# -- loading -----------------------------------------------------------------------------------


def _batches(
    source: Any, query: str, params: dict[str, Any], *, definition: DatasetDefinition, checkpoint: Checkpoint
) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    from sqlalchemy import text

    with source.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(text(query), params)
        columns = list(result.keys())
        fetched = 0
        while rows := result.fetchmany(definition.fetch_size):
            fetched += 1
            if fetched > 1 and definition.batch_pause:
                time.sleep(definition.batch_pause)
            checkpoint(f"batch {fetched} of dataset {definition.key}")
            yield columns, [tuple(r) for r in rows]
        if not columns:
            return
        yield columns, []


def staging_name(table: str) -> str:
    """The staging table of one refresh: unique, and within PostgreSQL's 63-character identifiers."""
    return f"{table[:36]}__loading_{uuid.uuid4().hex[:16]}"


def _replace(source: Any, engine: Any, definition: DatasetDefinition, log: Any, checkpoint: Checkpoint) -> int:
    staging = staging_name(definition.table)
    loaded = 0
    target = None
    try:
        for columns, rows in _batches(source, definition.query, {}, definition=definition, checkpoint=checkpoint):
            if target is None:
                target = _create(engine, staging, columns, rows)
            if rows:
                _insert(engine, target, columns, rows)
                loaded += len(rows)
                log.info("dataset %s: %s rows staged", definition.key, loaded)
        if target is None:
            raise JobDefinitionError(f"dataset {definition.key}: the query returned no columns")
        checkpoint(f"the swap of dataset {definition.key}")
        _swap(engine, staging, definition.table)
    except BaseException:  # also when the task is stopped (on_kill raises SystemExit)
        _drop_quietly(engine, staging, log)
        raise
    return loaded


def _append(source: Any, engine: Any, definition: DatasetDefinition, log: Any, checkpoint: Checkpoint) -> int:
    """Append the rows past the watermark, all in one transaction under the dataset's lock."""
    from sqlalchemy import MetaData, Table, text

    wm = definition.watermark or ""
    target = Table(definition.table, MetaData(), autoload_with=engine)
    loaded = 0
    with _dataset_lock(engine, definition.table) as conn:
        mark = conn.execute(text(f'SELECT MAX("{wm}") FROM "{definition.table}"')).scalar()
        log.info("dataset %s (%s): INCREMENTAL past %s = %r", definition.key, definition.title, wm, mark)
        if mark is None:
            query, params = f"SELECT * FROM ({definition.query}) q ORDER BY q.{wm}", {}
        else:
            query, params = f"SELECT * FROM ({definition.query}) q WHERE q.{wm} > :mark ORDER BY q.{wm}", {"mark": mark}
        for columns, rows in _batches(source, query, params, definition=definition, checkpoint=checkpoint):
            if rows:
                conn.execute(target.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
                loaded += len(rows)
                log.info("dataset %s: %s rows appended", definition.key, loaded)
        checkpoint(f"the commit of dataset {definition.key}'s append")  # raising rolls it back
    return loaded


@contextmanager
def _dataset_lock(engine: Any, name: str) -> Iterator[Any]:
    """A connection in a transaction that holds the dataset's lock until it commits (or rolls back).

    PostgreSQL: a transaction-scoped advisory lock per table name. SQLite: `BEGIN IMMEDIATE`, the
    database's write lock (pysqlite would only begin at the first write, after the read of the
    watermark). Other databases: a plain transaction.
    """
    from sqlalchemy import text

    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"taskcenter.dataset.{name}"}
                )
            yield conn
        return
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        previous = driver.isolation_level
        driver.isolation_level = None  # no implicit BEGIN: ours is the transaction
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        finally:
            driver.isolation_level = previous


def _column_type(values: Sequence[Any]) -> Any:
    import sqlalchemy as sa

    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {bool}:
        return sa.Boolean()
    if kinds and kinds <= {int}:
        return sa.BigInteger()
    if kinds and kinds <= {int, float}:
        return sa.Float()
    if kinds and kinds <= {int, float, Decimal}:
        return sa.Numeric()
    if kinds and kinds <= {datetime}:
        return sa.DateTime()
    if kinds and kinds <= {date}:
        return sa.Date()
    if kinds and kinds <= {bytes}:
        return sa.LargeBinary()
    return sa.Text()


def _create(engine: Any, name: str, columns: list[str], rows: list[tuple[Any, ...]]) -> Any:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    target = sa.Table(
        name, metadata, *(sa.Column(c, _column_type([r[i] for r in rows])) for i, c in enumerate(columns))
    )
    metadata.create_all(engine)
    return target


def _insert(engine: Any, target: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    with engine.begin() as conn:
        conn.execute(target.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


def _swap(engine: Any, staging: str, name: str) -> None:
    """Drop the old table and rename the staging one in a single transaction, under the dataset's lock.

    Swaps (and appends) of one table take turns: a rename onto the name another swap has just taken
    (not yet committed) would fail instead of replacing it.
    """
    from sqlalchemy import text

    with _dataset_lock(engine, name) as conn:
        conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
        conn.execute(text(f'ALTER TABLE "{staging}" RENAME TO "{name}"'))


def _drop_quietly(engine: Any, name: str, log: Any) -> None:
    """Drop a failed refresh's staging table; a failure here must not hide the refresh's own."""
    from sqlalchemy import text

    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
    except Exception as exc:
        log.warning("could not drop the staging table %s: %s", name, exc)


def _table_exists(engine: Any, name: str) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table(name)


def _head(engine: Any, name: str, limit: int) -> tuple[list[str], list[list[Any]]]:
    from sqlalchemy import text

    with engine.connect() as conn:
        result = conn.execute(text(f'SELECT * FROM "{name}" LIMIT :limit'), {"limit": limit})
        return list(result.keys()), [list(r) for r in result]


# -- stats: diskUsage and datasetCount -----------------------------------------------------------


def _stats_table() -> Any:
    import sqlalchemy as sa

    return sa.Table(
        STATS_TABLE,
        sa.MetaData(),
        sa.Column("dataset_key", sa.String(255), primary_key=True),
        sa.Column("table_name", sa.String(255), nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("disk_usage", sa.BigInteger, nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    )


def _disk_usage(engine: Any, name: str) -> int | None:
    from sqlalchemy import text

    query = {
        "sqlite": "SELECT SUM(pgsize) FROM dbstat WHERE name = :name",
        "postgresql": "SELECT pg_total_relation_size(CAST(:name AS regclass))",
    }.get(engine.dialect.name)
    if query is None:
        return None
    try:
        with engine.connect() as conn:
            value = conn.execute(text(query), {"name": name}).scalar()
    except Exception:  # dbstat is a compile-time option of SQLite
        return None
    return int(value) if value is not None else None


def record_stats(engine: Any, definition: DatasetDefinition) -> dict[str, Any]:
    from sqlalchemy import text

    stats = _stats_table()
    _ensure_stats_table(engine, stats)
    with engine.connect() as conn:
        rows = conn.execute(text(f'SELECT COUNT(*) FROM "{definition.table}"')).scalar() or 0
    size = _disk_usage(engine, definition.table)
    values = {
        "dataset_key": definition.key,
        "table_name": definition.table,
        "row_count": rows,
        "disk_usage": size,
        "refreshed_at": datetime.now(timezone.utc),
    }
    with engine.begin() as conn:
        _write_stats_row(conn, stats, values)
    return {"rows": rows, "bytes": size}


def _write_stats_row(conn: Any, stats: Any, values: dict[str, Any]) -> None:
    """Insert or replace a dataset's row; an upsert, so concurrent refreshes of it both succeed."""
    dialect = conn.dialect.name
    if dialect not in ("postgresql", "sqlite"):  # other engines: no concurrent-refresh guarantee
        conn.execute(stats.delete().where(stats.c.dataset_key == values["dataset_key"]))
        conn.execute(stats.insert().values(**values))
        return
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        statement = postgresql_insert(stats).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(stats).values(**values)
    changed = {name: statement.excluded[name] for name in values if name != "dataset_key"}
    conn.execute(statement.on_conflict_do_update(index_elements=["dataset_key"], set_=changed))


def _ensure_stats_table(engine: Any, stats: Any) -> None:
    """Create the stats table unless it exists, also when side-by-side refreshes all try at once.

    `create_all` checks, then creates: on a fresh engine the mapped tasks of an APP_REFRESH race
    between the two (PostgreSQL: DuplicateTable, or a unique violation on `pg_type`; SQLite:
    "already exists"). Losing that race is fine once the table is there.
    """
    from sqlalchemy.exc import DBAPIError

    try:
        stats.metadata.create_all(engine)
    except DBAPIError:
        if not _table_exists(engine, STATS_TABLE):
            raise


def read_stats(engine: Any) -> dict[str, tuple[int, int | None]]:
    """`{dataset key: (rows, bytes)}` for every refreshed dataset (empty before the first refresh)."""
    from sqlalchemy import inspect, select

    if not inspect(engine).has_table(STATS_TABLE):
        return {}
    stats = _stats_table()
    with engine.connect() as conn:
        return {r.dataset_key: (r.row_count, r.disk_usage) for r in conn.execute(select(stats))}
