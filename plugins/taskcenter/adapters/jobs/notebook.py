"""NOTEBOOK (NotebookJob, jobParams `{"notebook": id}`): run a Jupyter notebook with papermill.

The entity's definition is `{"notebook": "<path to .ipynb>"}` (relative to the catalog's folder).
All `jobParams` are the notebook's parameters: papermill injects them after the cell tagged
`parameters`. The kernel is ipykernel on this very interpreter, so a notebook sees the packages the
worker has. The kernel's working directory is the run's output folder, not the notebook's folder:
catalog folders may be read-only or shared between runs, so files a notebook writes land next to
the executed copy `<notebook>.output.ipynb`.

Every code cell is a sub-step whose subKey is its nbformat cell id ("cell-<index>" for cells
without one; "injected-parameters" for papermill's cell). A cell's outputs are logged under its
subKey as soon as the cell ends, through nbclient's `on_cell_execute` / `on_cell_executed` hooks,
which papermill hands to its nbclient engine. A table the cell displays (a pandas DataFrame, via the
table-schema mime type pandas emits once `display.html.table_schema` is on, or an
`application/json` `{"schema", "data"}` object) is published as its result. A failing cell ends
the run with `NotebookCellError`; later cells do not run.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskcenter.adapters.jobs.base import ChildProcesses, JobDefinitionError, JobRun

GROUP = "NOTEBOOK"
KERNEL_NAME = "python3"
INJECTED_KEY = "injected-parameters"  # papermill's tag (and our subKey) for the cell it adds
TABLE_MIME = "application/vnd.dataresource+json"
# Run by the kernel before any cell (IPython's exec_lines), so the notebook itself stays untouched.
KERNEL_SETUP = (
    "try:\n    import pandas\nexcept ImportError:\n    pass\n"
    "else:\n    pandas.set_option('display.html.table_schema', True)\n    del pandas\n"
)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_TYPES = {"integer": "integer", "number": "number", "boolean": "bool", "datetime": "date", "date": "date"}


class NotebookCellError(RuntimeError):
    """A notebook cell failed; the message names the notebook, the cell, its position and the error."""


def run(job: JobRun) -> None:
    """Run the entity's notebook, one subKey per code cell; a failing cell raises NotebookCellError."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    entity = job.entity(GROUP, job.param("notebook"))
    if not entity.definition.get("notebook"):
        raise JobDefinitionError(f"{GROUP} {entity.key}: the definition has no 'notebook' (the .ipynb file to run)")
    source = job.resolve_path(str(entity.definition["notebook"]))
    parameters = dict(job.job_params)
    if bad := [str(name) for name in parameters if not str(name).isidentifier()]:
        raise JobDefinitionError(f"{GROUP} {entity.key}: jobParams {bad} are not valid Python names")

    folder = job.output_folder()
    notebook, ids_added = _load(source)
    runnable = source
    if ids_added:  # papermill reads a file; give it the copy whose ids match our subKeys
        runnable = folder / f"{source.stem}.input.ipynb"
        nbformat.write(notebook, str(runnable))
    output = folder / f"{source.stem}.output.ipynb"
    cells = _CellEvents(job=job, positions=_positions(notebook))
    job.log.info("running notebook %s (output %s)", source, output)
    try:
        papermill.execute_notebook(
            _literal(str(runnable)),
            _literal(str(output)),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=_kernel_manager_class(job.processes),
            extra_arguments=[f"--IPKernelApp.exec_lines={KERNEL_SETUP}"],
            cwd=str(folder),
            progress_bar=False,
            on_cell_execute=cells.started,
            on_cell_executed=cells.finished,
        )
    except PapermillExecutionError as exc:
        # The traceback is already under the cell's subKey; the message says where and what.
        raise cells.failure(source.name, f"{exc.ename}: {exc.evalue}") from None
    except Exception as exc:
        if cells.current is None:  # before any cell ran: kernel did not start, bad notebook, ...
            raise
        job.step_log(cells.current).error("%s", exc)
        raise cells.failure(source.name, f"{type(exc).__name__}: {exc}") from exc
    finally:
        # nbclient shuts its kernel down itself; this makes sure none outlives the run, at once
        # (a reaped kernel's pid may be reused later).
        job.processes.terminate()
    job.log.info("notebook %s done; executed copy in %s", source.name, output)


def _load(path: Path) -> tuple[Any, bool]:
    """The notebook, every cell with an id; cells without one get "cell-<index>".

    nbformat would invent random ids, so subKeys would change from run to run; ours stay put.
    """
    import nbformat

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        added = False
        if isinstance(raw, dict) and raw.get("nbformat") == 4:
            for index, cell in enumerate(raw.get("cells", [])):
                if not cell.get("id"):
                    cell["id"], added = f"cell-{index}", True
            if added:
                raw["nbformat_minor"] = max(5, int(raw.get("nbformat_minor", 0)))
        return nbformat.reads(json.dumps(raw), as_version=4), added
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise JobDefinitionError(f"{GROUP}: {str(path)!r} is not a readable notebook: {exc}") from exc


def _positions(notebook: Any) -> dict[str, tuple[int, int]]:
    """Cell id -> (n, of): where a code cell sits among the notebook's own code cells."""
    ids = [cell.get("id") for cell in notebook.cells if cell.get("cell_type") == "code"]
    return {str(cell_id): (n, len(ids)) for n, cell_id in enumerate(ids, start=1)}


def _literal(path: str) -> str:
    """Papermill formats paths with the parameters (`str.format`); keep braces in ours literal."""
    return path.replace("{", "{{").replace("}", "}}")


def _kernel_manager_class(processes: ChildProcesses | None = None) -> type:
    """The kernel manager of one run: this interpreter's kernel, registered in `processes`."""
    base = _this_interpreter_kernel_manager()
    if processes is None:
        return base
    return type(base.__name__, (base,), {"taskcenter_processes": processes})


@functools.cache
def _this_interpreter_kernel_manager() -> type:
    """A kernel manager whose "python3" is always ipykernel on `sys.executable`.

    jupyter_client looks "python3" up in the user's, the environment's and the system's kernelspec
    folders first; a user-level spec can point at another Python without the worker's packages.
    With no folders to search it falls back to ipykernel's own spec: this interpreter.
    The kernel runs in a session of its own (jupyter_client starts it so), out of reach of the
    signals that stop the task, so it is registered in the run's `taskcenter_processes`.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisInterpreterKernelManager(AsyncKernelManager):
        taskcenter_processes: ChildProcesses | None = None

        @default("kernel_spec_manager")
        def _this_interpreter_only(self) -> KernelSpecManager:
            return KernelSpecManager(kernel_dirs=[])

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            process = getattr(self.provisioner, "process", None)
            if self.taskcenter_processes is not None and process is not None:
                self.taskcenter_processes.add(process)

    return ThisInterpreterKernelManager


@dataclass(kw_only=True)
class _CellEvents:
    """nbclient's cell hooks: log each code cell under its subKey and publish its table when it ends."""

    job: JobRun
    positions: dict[str, tuple[int, int]]
    current: str | None = None  # the last cell started: the failing one when the run stops
    started_at: float = 0.0

    def describe(self, key: str) -> str:
        n = self.positions.get(key)
        return f"cell {key} ({n[0]} of {n[1]})" if n else f"cell {key}"

    def started(self, *, cell: Any, cell_index: int, **_: Any) -> None:
        key = _sub_key(cell, cell_index)
        self.job.checkpoint(self.describe(key))  # a cancelled run starts no further cell
        self.current = key
        self.started_at = time.monotonic()
        log = self.job.step_log(key)
        log.info("%s started", self.describe(key))
        if key == INJECTED_KEY:  # the parameters this run uses
            for line in str(cell.get("source", "")).splitlines():
                log.info("%s", line)

    def finished(self, *, cell: Any, cell_index: int, execute_reply: Any = None, **_: Any) -> None:
        key = _sub_key(cell, cell_index)
        log = self.job.step_log(key)
        outputs = cell.get("outputs", [])
        for level, line in _lines(outputs):
            getattr(log, level)("%s", line)
        ok = ((execute_reply or {}).get("content") or {}).get("status") == "ok"
        if ok and (found := _table(outputs)) is not None:
            self.job.publish(key, found)
        elapsed = time.monotonic() - self.started_at
        (log.info if ok else log.error)("%s %s in %.1f s", self.describe(key), "done" if ok else "failed", elapsed)

    def failure(self, notebook: str, error: str) -> NotebookCellError:
        where = self.describe(self.current) if self.current else "a cell"
        return NotebookCellError(f"notebook {notebook}: {where} failed: {error}")


def _sub_key(cell: Any, index: int) -> str:
    if INJECTED_KEY in cell.get("metadata", {}).get("tags", []):
        return INJECTED_KEY
    return str(cell.get("id") or f"cell-{index}")


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _lines(outputs: Sequence[Any]) -> Iterator[tuple[str, str]]:
    """(level, line) of a cell's outputs: streams (chunks of one stream joined), results, tracebacks."""
    pending: list[str] = []
    pending_name: str | None = None
    for output in [*outputs, None]:
        kind = output.get("output_type") if output is not None else None
        if kind == "stream" and output.get("name") == pending_name:
            pending.append(_text(output.get("text", "")))
            continue
        for raw in "".join(pending).split("\n"):
            if line := raw.rstrip("\r").rsplit("\r", 1)[-1]:  # keep what a progress bar shows last
                yield "info", line
        pending, pending_name = [], None
        if kind == "stream":
            pending, pending_name = [_text(output.get("text", ""))], output.get("name")
        elif kind == "error":
            for entry in output.get("traceback", []):
                yield from (("error", line) for line in _ANSI.sub("", entry).splitlines())
        elif kind in ("execute_result", "display_data") and "text/plain" in output.get("data", {}):
            yield from (("info", line) for line in _text(output["data"]["text/plain"]).splitlines())


def _table(outputs: Sequence[Any]) -> dict[str, Any] | None:
    """The last table a cell displayed, as a result table; None when it displayed none."""
    found = None
    for output in outputs:
        data = output.get("data", {}) if output.get("output_type") in ("execute_result", "display_data") else {}
        for mime in (TABLE_MIME, "application/json"):
            if (converted := _as_table(data.get(mime))) is not None:
                found = converted
                break
    return found


def _as_table(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("data"), list):
        return None
    schema, rows = value.get("schema"), value["data"]
    if isinstance(schema, list):  # already {"schema": [columns], "data": [[...]]}
        return {"schema": [dict(c) if isinstance(c, Mapping) else c for c in schema], "data": [list(r) for r in rows]}
    if not isinstance(schema, Mapping) or not isinstance(schema.get("fields"), list):
        return None
    # A Frictionless data resource, as pandas writes it: {"schema": {"fields": [...]}, "data": [{col: v}]}
    fields = [f for f in schema["fields"] if isinstance(f, Mapping) and "name" in f]
    if _default_index(schema, fields, rows):
        fields = fields[1:]
    names = [str(f["name"]) for f in fields]
    columns = [
        {"name": n, "title": n, "type": _TYPES.get(str(f.get("type")), "string")}
        for n, f in zip(names, fields, strict=True)
    ]
    data = [[row.get(n) for n in names] if isinstance(row, Mapping) else list(row) for row in rows]
    return {"schema": columns, "data": data}


def _default_index(schema: Mapping[str, Any], fields: list[Mapping[str, Any]], rows: list[Any]) -> bool:
    """Whether the first field is pandas' unnamed RangeIndex (0, 1, 2, ...), which is no data."""
    if list(schema.get("primaryKey") or []) != ["index"] or not fields or fields[0]["name"] != "index":
        return False
    return all(isinstance(row, Mapping) and row.get("index") == n for n, row in enumerate(rows))
