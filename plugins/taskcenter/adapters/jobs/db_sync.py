"""DB_BATCH_SYNC (DBBatchSyncJob, jobParams `{"syncProj": id}`): copy tables between two connections.

The entity's definition is `{"source": "<conn id>", "target": "<conn id>", "batchSize": 50,
"tables": [{"name": "orders", "key": "id", "incremental": true}, {"name": "customers"}]}`
(a table may also be just its name; batchSize defaults to `[taskcenter] sync_batch_size`;
`"batchPauseSeconds": 0.5` waits between batches, to spare a busy source or target).

- A missing target table is created from the source table's reflection, with portable generic
  types and the same primary key, so any SQLAlchemy database can be a target.
- Incremental tables copy only the rows whose key is past the target's maximum, in key order, and
  commit each batch: a failed run leaves a consistent watermark and the next run resumes there.
- Other tables are replaced: delete + every insert in one target transaction, so readers see the
  old rows or the new ones, never a mix.
- Rows are read through one streamed (server-side where the driver has it) cursor and written with
  executemany, `batchSize` rows at a time, so memory stays bounded by one batch.

Each table logs and publishes under its own subKey (its name) as soon as it is done. A cancelled
run writes no further batch (`job.checkpoint` before each) and commits nothing more: a full copy's
transaction is rolled back, an incremental one keeps the batches committed so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, delete, func, insert, inspect, select
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.types import NullType, TypeEngine

from taskcenter.adapters.jobs.base import JobDefinitionError, JobRun, batch_pause, table
from taskcenter.adapters.jobs.pipeline import describe

GROUP = "DB_BATCH_SYNC"
RESULT_COLUMNS = ["table", "mode", "rowsCopied", "targetRows", "batches"]
_PROJECT_FIELDS = {"source", "target", "batchSize", "batchPauseSeconds", "tables"}
_TABLE_FIELDS = {"name", "key", "incremental"}


class SyncTableError(RuntimeError):
    """Copying one table failed; the message names the project and the table."""


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    name: str
    key: str | None = None
    incremental: bool = False

    @property
    def mode(self) -> str:
        return "incremental" if self.incremental else "full"


@dataclass(frozen=True, kw_only=True)
class SyncProject:
    id: Any
    source: str
    target: str
    batch_size: int
    tables: tuple[TableSpec, ...]
    batch_pause: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TableOutcome:
    rows_copied: int
    target_rows: int
    batches: int


def run(job: JobRun) -> None:
    """Sync every table of the project in order; results are published per table."""
    project_id = job.param("syncProj")
    project = parse_project(
        project_id=project_id,
        definition=job.entity(GROUP, project_id).definition,
        default_batch_size=job.option("sync_batch_size"),
    )
    source, target = job.sql_engine(project.source), job.sql_engine(project.target)
    # Reflect every source table first: an unknown table or key fails before anything is copied.
    reflected = {spec.name: _reflect_source(source, spec, project=project) for spec in project.tables}
    for spec in project.tables:
        log = job.step_log(spec.name)
        try:
            done = sync_table(
                spec,
                reflected[spec.name],
                source=source,
                target=target,
                project=project,
                log=log,
                checkpoint=job.checkpoint,
            )
            row = [spec.name, spec.mode, done.rows_copied, done.target_rows, done.batches]
            job.publish(spec.name, table(RESULT_COLUMNS, [row]))
        except Exception as exc:
            log.error(f"{spec.name}: failed: {describe(exc)}")
            raise SyncTableError(f"sync project {project_id} table {spec.name} failed: {describe(exc)}") from exc


def parse_project(*, project_id: Any, definition: Mapping[str, Any], default_batch_size: str) -> SyncProject:
    """The definition as a SyncProject, or a JobDefinitionError saying what is wrong."""
    where = f"sync project {project_id}"
    _no_unknown(definition, _PROJECT_FIELDS, where=where)
    for name in ("source", "target"):
        if not isinstance(definition.get(name), str) or not definition[name]:
            raise JobDefinitionError(f"{where}: '{name}' (an Airflow connection id) is required")
    batch_size: Any = definition.get("batchSize")
    if batch_size is None:
        try:
            batch_size = int(default_batch_size)
        except ValueError:
            raise JobDefinitionError(
                f"[taskcenter] sync_batch_size must be an integer, got {default_batch_size!r}"
            ) from None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise JobDefinitionError(f"{where}: batchSize must be a positive integer, got {batch_size!r}")
    raw_tables = definition.get("tables")
    if not isinstance(raw_tables, list) or not raw_tables:
        raise JobDefinitionError(f"{where}: 'tables' must be a non-empty list")
    pause = batch_pause(definition, where=where)
    tables = tuple(_parse_table(raw, where=where) for raw in raw_tables)
    names = [spec.name for spec in tables]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise JobDefinitionError(f"{where}: table(s) listed twice: {', '.join(duplicates)}")
    return SyncProject(
        id=project_id,
        source=definition["source"],
        target=definition["target"],
        batch_size=batch_size,
        tables=tables,
        batch_pause=pause,
    )


def sync_table(
    spec: TableSpec,
    source_table: Table,
    *,
    source: Any,
    target: Any,
    project: SyncProject,
    log: Any,
    checkpoint: Callable[[str], None] = lambda before: None,
) -> TableOutcome:
    """Copy one table in batches; see the module docstring for the full and incremental modes.

    `checkpoint(before)` is called before each batch is written and before the final commit.
    """
    target_table = _target_table(target, source_table, log=log)
    columns = [c.name for c in source_table.columns]
    missing = [c for c in columns if c not in target_table.c]
    if missing:
        raise JobDefinitionError(f"target table {spec.name} lacks source column(s) {', '.join(missing)}")
    query = select(*(source_table.c[c] for c in columns))
    if spec.incremental:
        assert spec.key is not None
        with target.connect() as conn:
            watermark = conn.execute(select(func.max(target_table.c[spec.key]))).scalar()
        if watermark is not None:
            query = query.where(source_table.c[spec.key] > watermark)
        query = query.order_by(source_table.c[spec.key])
        since = f"{spec.key} > {watermark!r}" if watermark is not None else "target empty, all rows"
    else:
        order = [source_table.c[spec.key]] if spec.key else list(source_table.primary_key.columns)
        query = query.order_by(*order)
        since = "replacing the target's rows"
    log.info(
        f"{spec.name}: {spec.mode} copy from {project.source} to {project.target} ({since}), "
        f"batches of {project.batch_size}"
    )
    statement = insert(target_table)
    copied = batches = 0
    with source.connect() as reader, target.connect() as writer:
        if not spec.incremental:
            writer.execute(delete(target_table))
        rows = reader.execution_options(stream_results=True, max_row_buffer=project.batch_size).execute(query)
        for batch in rows.partitions(project.batch_size):
            if batches and project.batch_pause:
                time.sleep(project.batch_pause)
            checkpoint(f"{spec.name}: batch {batches + 1}")
            writer.execute(statement, [dict(zip(columns, row, strict=True)) for row in batch])
            if spec.incremental:
                writer.commit()
            batches += 1
            copied += len(batch)
            log.info(f"{spec.name}: batch {batches}, {copied} rows copied so far")
        checkpoint(f"{spec.name}: the commit")
        writer.commit()
        target_rows = writer.execute(select(func.count()).select_from(target_table)).scalar_one()
    log.info(f"{spec.name}: done, {copied} rows copied in {batches} batch(es), {target_rows} rows in the target")
    return TableOutcome(rows_copied=copied, target_rows=target_rows, batches=batches)


def portable_type(source_type: TypeEngine[Any], dialect: Any) -> TypeEngine[Any]:
    """The generic SQLAlchemy type of a source column, as long as the target can express it."""
    if isinstance(source_type, NullType):
        return Text()
    try:
        generic = source_type.as_generic()
    except NotImplementedError:
        generic = source_type
    try:
        generic.compile(dialect=dialect)
    except Exception:
        return Text()
    return generic


def _parse_table(raw: Any, *, where: str) -> TableSpec:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise JobDefinitionError(f"{where}: every table needs a 'name', got {raw!r}")
    _no_unknown(raw, _TABLE_FIELDS, where=f"{where} table {raw['name']}")
    key, incremental = raw.get("key"), raw.get("incremental", False)
    if key is not None and (not isinstance(key, str) or not key):
        raise JobDefinitionError(f"{where} table {raw['name']}: 'key' must be a column name")
    if not isinstance(incremental, bool):
        raise JobDefinitionError(f"{where} table {raw['name']}: 'incremental' must be true or false")
    if incremental and key is None:
        raise JobDefinitionError(f"{where} table {raw['name']}: an incremental table needs a 'key' column")
    return TableSpec(name=raw["name"], key=key, incremental=incremental)


def _no_unknown(raw: Mapping[str, Any], known: set[str], *, where: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise JobDefinitionError(f"{where}: unknown field(s) {unknown} (known: {', '.join(sorted(known))})")


def _reflect_source(engine: Any, spec: TableSpec, *, project: SyncProject) -> Table:
    try:
        found = Table(spec.name, MetaData(), autoload_with=engine)
    except NoSuchTableError:
        raise JobDefinitionError(
            f"sync project {project.id}: source {project.source} has no table {spec.name!r}"
        ) from None
    if spec.key is not None and spec.key not in found.c:
        raise JobDefinitionError(f"sync project {project.id}: table {spec.name} has no key column {spec.key!r}")
    return found


def _target_table(engine: Any, source_table: Table, *, log: Any) -> Table:
    """The target's table, created like the source's when it does not exist yet."""
    name = source_table.name
    if inspect(engine).has_table(name):
        return Table(name, MetaData(), autoload_with=engine)
    created = Table(
        name,
        MetaData(),
        *(
            # autoincrement=False: the copied keys are the source's, the target must not generate its own.
            Column(
                c.name,
                portable_type(c.type, engine.dialect),
                primary_key=c.primary_key,
                nullable=c.nullable,
                autoincrement=False,
            )
            for c in source_table.columns
        ),
    )
    created.create(engine)
    described = ", ".join(f"{c.name} {c.type.compile(dialect=engine.dialect)}" for c in created.columns)
    log.info(f"{name}: created the target table ({described})")
    return created
