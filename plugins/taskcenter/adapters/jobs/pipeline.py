"""PIPELINE (PipelineJob, jobParams `{"pipeline": id}`): a data-integration project's nodes.

The entity's definition is `{"nodes": [...]}`; a node is
`{"id", "name", "type": "sql", "conn": "<Airflow connection>", "sql": "..." | ["...", ...], "dependsOn": [ids]}`
or `{"id", "name", "type": "python", "callable": "module:function", "dependsOn": [ids]}`.

The whole definition is checked (ids, dependencies, cycles, types, callables, connections) before
any node runs, so a bad project changes nothing. Nodes then run one at a time in dependency order,
ties broken by node id, so the log reads like the vendor's and a failure stops everything after
it. Each node logs and publishes under its own subKey (its id), as soon as it ends.
"""

from __future__ import annotations

import functools
import heapq
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from taskcenter.adapters.jobs.base import JobDefinitionError, JobRun, table
from taskcenter.domain.results import MAX_ROWS, as_table

GROUP = "PIPELINE"
_FIELDS = {
    "sql": {"id", "name", "type", "dependsOn", "conn", "sql"},
    "python": {"id", "name", "type", "dependsOn", "callable"},
}


class PipelineNodeError(RuntimeError):
    """A node failed while running; the message names the pipeline and the node."""


@dataclass(frozen=True, kw_only=True)
class SqlNode:
    id: int | str
    name: str
    depends_on: tuple[str, ...]
    conn: str
    statements: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PythonNode:
    id: int | str
    name: str
    depends_on: tuple[str, ...]
    callable_ref: str


Node = SqlNode | PythonNode


@dataclass(frozen=True, kw_only=True)
class Pipeline:
    id: Any
    nodes: tuple[Node, ...]  # in execution order

    def node(self, key: str) -> Node:
        return next(n for n in self.nodes if str(n.id) == key)


def run(job: JobRun) -> None:
    """Run the pipeline; results are published per node, so the job itself returns nothing."""
    pipeline_id = job.param("pipeline")
    pipeline = parse_pipeline(pipeline_id=pipeline_id, definition=job.entity(GROUP, pipeline_id).definition)
    callables = {n.id: resolve_callable(n) for n in pipeline.nodes if isinstance(n, PythonNode)}
    # Every connection is looked up before the first node runs: a missing one fails nothing half-done.
    engines = {n.conn: job.sql_engine(n.conn) for n in pipeline.nodes if isinstance(n, SqlNode)}
    results: dict[str, dict[str, Any] | None] = {}
    for position, node in enumerate(pipeline.nodes, start=1):
        prefix = f"[pipelineId: {pipeline_id} jobId: {job.plan_id or 0} nodeId: {node.id} taskId: {position}]"
        log = job.step_log(str(node.id))
        job.checkpoint(f"node {node.id} ({node.name})")  # a cancelled run starts no further node
        log.info(f"{prefix} task start")
        try:
            if isinstance(node, SqlNode):
                result = _run_sql(node, engines[node.conn], log=log, prefix=prefix)
            else:
                upstream = {pipeline.node(d).id: results[d] for d in node.depends_on}
                log.info(f"{prefix} calling {node.callable_ref} with upstream nodes {list(upstream) or 'none'}")
                result = as_table(callables[node.id](params=dict(job.job_params), upstream=upstream, log=log))
                log.info(f"{prefix} returned {_size(result)}")
            results[str(node.id)] = result
            if result is not None:
                job.publish(str(node.id), result)
        except Exception as exc:
            log.error(f"{prefix} task failed: {describe(exc)}")
            raise PipelineNodeError(
                f"pipeline {pipeline_id} node {node.id} ({node.name}) failed: {describe(exc)}"
            ) from exc
        log.info(f"{prefix} task done")


def parse_pipeline(*, pipeline_id: Any, definition: Mapping[str, Any]) -> Pipeline:
    """The definition's nodes in execution order, or a JobDefinitionError saying what is wrong."""
    where = f"pipeline {pipeline_id}"
    raw_nodes = definition.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise JobDefinitionError(f"{where}: definition.nodes must be a non-empty list")
    nodes: dict[str, Node] = {}
    for raw in raw_nodes:
        node = _parse_node(raw, where=where)
        if str(node.id) in nodes:
            raise JobDefinitionError(f"{where}: duplicate node id {node.id!r}")
        nodes[str(node.id)] = node
    for node in nodes.values():
        unknown = [d for d in node.depends_on if d not in nodes]
        if unknown:
            raise JobDefinitionError(f"{where}: node {node.id} depends on unknown node(s) {', '.join(unknown)}")
    return Pipeline(id=pipeline_id, nodes=tuple(nodes[k] for k in _execution_order(nodes, where=where)))


def resolve_callable(node: PythonNode) -> Callable[..., Any]:
    """Import a python node's `module:function` (dotted attributes allowed after the colon)."""
    module_name, _, attribute = node.callable_ref.partition(":")
    try:
        found = functools.reduce(getattr, attribute.split("."), importlib.import_module(module_name))
    except (ImportError, AttributeError) as exc:
        raise JobDefinitionError(f"node {node.id}: cannot load callable {node.callable_ref!r}: {exc}") from exc
    if not callable(found):
        raise JobDefinitionError(f"node {node.id}: {node.callable_ref!r} is not callable")
    return found


def describe(exc: BaseException) -> str:
    """One line for the log: the driver's own error, not SQLAlchemy's multi-line wrapper."""
    error = getattr(exc, "orig", None) or exc
    return " ".join(f"{type(error).__name__}: {error}".split())


def _parse_node(raw: Any, *, where: str) -> Node:
    if not isinstance(raw, Mapping):
        raise JobDefinitionError(f"{where}: every node must be an object, got {raw!r}")
    node_id = raw.get("id")
    if isinstance(node_id, bool) or not isinstance(node_id, (int, str)) or node_id == "":
        raise JobDefinitionError(f"{where}: node id must be an integer or a non-empty string, got {node_id!r}")
    where = f"{where} node {node_id}"
    kind = raw.get("type")
    if kind not in _FIELDS:
        raise JobDefinitionError(f"{where}: unknown node type {kind!r} (known: {', '.join(sorted(_FIELDS))})")
    unknown = sorted(set(raw) - _FIELDS[kind])
    if unknown:
        raise JobDefinitionError(f"{where}: unknown field(s) {unknown} for a {kind} node")
    depends = raw.get("dependsOn", [])
    if not isinstance(depends, list) or any(isinstance(d, bool) or not isinstance(d, (int, str)) for d in depends):
        raise JobDefinitionError(f"{where}: dependsOn must be a list of node ids")
    name, depends_on = str(raw.get("name") or ""), tuple(dict.fromkeys(map(str, depends)))
    if kind == "sql":
        conn, sql = raw.get("conn"), raw.get("sql")
        statements = [sql] if isinstance(sql, str) else sql
        if not isinstance(conn, str) or not conn:
            raise JobDefinitionError(f"{where}: 'conn' (an Airflow connection id) is required")
        if (
            not isinstance(statements, list)
            or not statements
            or not all(isinstance(s, str) and s.strip() for s in statements)
        ):
            raise JobDefinitionError(f"{where}: 'sql' must be a statement or a non-empty list of statements")
        return SqlNode(id=node_id, name=name, depends_on=depends_on, conn=conn, statements=tuple(statements))
    ref = raw.get("callable")
    module_name, sep, attribute = ref.partition(":") if isinstance(ref, str) else ("", "", "")
    if not (isinstance(ref, str) and module_name and sep and attribute):
        raise JobDefinitionError(f"{where}: 'callable' must be 'module:function', got {ref!r}")
    return PythonNode(id=node_id, name=name, depends_on=depends_on, callable_ref=ref)


def _execution_order(nodes: Mapping[str, Node], *, where: str) -> list[str]:
    """Topological order; among ready nodes the smallest id first, so every run has the same order."""
    sorter = TopologicalSorter({key: node.depends_on for key, node in nodes.items()})
    try:
        sorter.prepare()
    except CycleError as exc:
        raise JobDefinitionError(f"{where}: dependency cycle {' -> '.join(map(str, exc.args[1]))}") from exc

    def rank(key: str) -> tuple[int, int | str]:
        node_id = nodes[key].id
        return (0, node_id) if isinstance(node_id, int) else (1, node_id)

    ready: list[tuple[tuple[int, int | str], str]] = []
    order: list[str] = []
    while sorter.is_active():
        for key in sorter.get_ready():
            heapq.heappush(ready, (rank(key), key))
        _, key = heapq.heappop(ready)
        order.append(key)
        sorter.done(key)
    return order


@contextmanager
def _transaction(engine: Any) -> Iterator[Any]:
    """One transaction for all of a node's statements, DDL included.

    SQL is passed to the driver as written (`no_parameters`: no `%`/`:name` interpretation).
    Python's sqlite3 runs DDL outside any transaction unless one was begun explicitly, hence BEGIN.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(no_parameters=True)
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        yield conn
        conn.commit()


def _run_sql(node: SqlNode, engine: Any, *, log: Any, prefix: str) -> dict[str, Any] | None:
    """The last statement's rows (at most MAX_ROWS kept), else its affected-row count."""
    count = len(node.statements)
    with _transaction(engine) as conn:
        for index, statement in enumerate(node.statements, start=1):
            log.info(f"{prefix} statement {index}/{count} on {node.conn}: {_short(statement)}")
            result = conn.exec_driver_sql(statement)
            if index == count and result.returns_rows:
                columns = list(result.keys())
                rows = result.fetchmany(MAX_ROWS)
                total = len(rows) + sum(1 for _ in result)
                kept = f" (first {len(rows)} kept as the result)" if total > len(rows) else ""
                log.info(f"{prefix} {total} row(s), columns {', '.join(columns)}{kept}")
                return as_table(table(columns, rows))
            affected = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else None
            result.close()
            log.info(
                f"{prefix} statement {index}/{count}: {'done' if affected is None else f'{affected} row(s) affected'}"
            )
    # Typed here: DDL has no count (None), and a column of None alone would be typed "string".
    return {"schema": [{"name": "rowsAffected", "title": "rowsAffected", "type": "integer"}], "data": [[affected]]}


def _short(sql: str, limit: int = 200) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _size(result: Mapping[str, Any] | None) -> str:
    return "no result" if result is None else f"{len(result['data'])} row(s)"
