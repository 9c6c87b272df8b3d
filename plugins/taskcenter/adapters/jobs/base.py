"""What a job runner gets: `JobRun`, one run of one plan's job, and the errors a runner raises.

A runner is a callable `(job: JobRun) -> result | None`. It finds its entity in the catalog by the
ids in `job.job_params`, does the work with the field's libraries, writes its log lines through
`job.step_log(sub_key)` (so `/logs` groups them by `subKey`) and publishes one result table per
sub-step with `job.publish(sub_key, table)` as soon as that step is done, so progress is visible
while the run goes on. The operator builds a `JobRun` from the Airflow task context; unit tests
build one with a list as the result sink and no Airflow at all.

A runner that starts a program in a session of its own (Chromium, a notebook's kernel) registers
it in `job.processes`, so that stopping the task stops that program too. Before each side effect
(a notebook cell, a pipeline node, a sync batch, a dataset swap, a mail) it calls
`job.checkpoint(...)`, which stops the job there once the run was cancelled (`jobs/cancel.py`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskcenter.adapters.jobs.cancel import CancelWatch
from taskcenter.domain.catalog import Entity, EntityCatalog

RESULT_KEY_PREFIX = "taskcenter.result."
# How long a job's own processes get to end after SIGTERM before SIGKILL; well within the 5 s the
# task supervisor waits before it SIGKILLs the task itself.
KILL_GRACE_SECONDS = 2.0
# The longest pause a definition may ask for between batches (`batchPauseSeconds`).
MAX_BATCH_PAUSE_SECONDS = 60


class JobDefinitionError(RuntimeError):
    """The job cannot run as defined: unknown entity, missing field, bad connection, ..."""


class MissingToolError(JobDefinitionError):
    """A program the job needs (e.g. Chromium) is not installed; the message says how to get it."""


Publish = Callable[[str, Any], None]


class ChildProcesses:
    """The processes a job started in a session of their own (Chromium, a notebook's kernel).

    Airflow stops a task by signalling the task's process group; a child that started its own
    session is not in that group and would outlive the task (and keep Chromium's helpers or a
    busy kernel running). Runners register such children here and discard them once reaped; the
    operator terminates what is registered when the task is told to stop (`on_kill`) and when
    the job ends. No lock: `terminate` runs in a signal handler on the thread that registers, and
    a lock held there would deadlock; single dict operations are atomic.
    """

    def __init__(self) -> None:
        self._processes: dict[int, tuple[subprocess.Popen[Any], bool]] = {}

    def add(self, process: subprocess.Popen[Any]) -> None:
        """Track `process`; its whole process group when it leads one of its own."""
        try:
            own_group = os.getpgid(process.pid) == process.pid != os.getpgid(0)
        except (ProcessLookupError, PermissionError):  # already gone
            own_group = False
        self._processes[process.pid] = (process, own_group)

    def discard(self, process: subprocess.Popen[Any]) -> None:
        self._processes.pop(process.pid, None)

    def pids(self) -> list[int]:
        return list(self._processes)

    def terminate(self, *, grace: float = KILL_GRACE_SECONDS) -> list[int]:
        """SIGTERM every tracked process (group), SIGKILL what is left after `grace` s; the pids signalled."""
        tracked = list(self._processes.values())
        self._processes.clear()
        signalled = [(p, group) for p, group in tracked if _signal(p, group, signal.SIGTERM)]
        _wait_gone(signalled, timeout=grace)
        for process, group in signalled:
            if _alive(process, group):
                _signal(process, group, signal.SIGKILL)
        _wait_gone(signalled, timeout=1.0)  # reaped, and the helpers gone with their leader
        return [p.pid for p, _ in signalled]


def _wait_gone(processes: list[tuple[subprocess.Popen[Any], bool]], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(_alive(p, group) for p, group in processes) and time.monotonic() < deadline:
        time.sleep(0.02)


def _signal(process: subprocess.Popen[Any], group: bool, sig: int) -> bool:
    if group:
        try:
            os.killpg(process.pid, sig)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    if process.poll() is not None:
        return False
    process.send_signal(sig)
    return True


def _alive(process: subprocess.Popen[Any], group: bool) -> bool:
    if process.poll() is None:
        return True
    if not group:
        return False
    try:  # the leader is gone; its helpers may still be in the group
        os.killpg(process.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return _has_live_member(process.pid)


def _has_live_member(pgid: int) -> bool:
    """Whether a process group has a member that is not a zombie.

    Helpers orphaned by their leader's death are reaped by init, which may take seconds; a
    group of zombies is dead already and must not make `terminate` wait out its grace.
    """
    try:
        entries = os.listdir("/proc")
    except OSError:  # no procfs: count the group as alive while it exists
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def result_key(sub_key: str) -> str:
    """The XCom key of one sub-step's result."""
    return RESULT_KEY_PREFIX + sub_key


@dataclass(frozen=True, kw_only=True)
class JobRun:
    job_class: str
    job_params: Mapping[str, Any]
    entity_group: str
    entity_key: str
    catalog: EntityCatalog
    log: Any
    publish_result: Publish
    work_folder: Path
    # The sub-step this task runs when the job is split over mapped tasks (an app's datasets).
    sub_key: str | None = None
    # The plan (the vendor's scheduled "job"); a task cannot know its run's integer contextId.
    plan_id: int | None = None
    try_number: int = 1
    context: Any = None
    options: Mapping[str, str] = field(default_factory=dict)
    processes: ChildProcesses = field(default_factory=ChildProcesses, repr=False, compare=False)
    # The run's cancel: `checkpoint` before each side effect (docs/api.md, Cancel).
    cancel: CancelWatch = field(default_factory=CancelWatch.never, repr=False, compare=False)
    _engines: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def entity(self, group: str, key: Any) -> Entity:
        """The catalog's entity, or a JobDefinitionError that names what is missing."""
        found = self.catalog.get(group, str(key))
        if found is None:
            raise JobDefinitionError(f"the entity catalog has no {group} entity {key!r}")
        return found

    def param(self, name: str) -> Any:
        if name not in self.job_params:
            raise JobDefinitionError(f"jobParams.{name} is required for {self.job_class}")
        return self.job_params[name]

    def sql_engine(self, conn_id: str) -> Any:
        """The SQLAlchemy engine of an Airflow connection, looked up once per run (`close` disposes it)."""
        if conn_id not in self._engines:
            self._engines[conn_id] = sql_engine(conn_id)
        return self._engines[conn_id]

    def checkpoint(self, before: str) -> None:
        """Stop here (`CancelInterrupt`) if the run was cancelled; call it before each side effect,
        naming it, so that nothing begins after a cancel was acknowledged."""
        self.cancel.checkpoint(before)

    def close(self) -> None:
        """Stop the processes this run left running and dispose the engines it opened."""
        self.processes.terminate()
        while self._engines:
            self._engines.popitem()[1].dispose()

    def step_log(self, sub_key: str) -> Any:
        """A logger whose lines `/logs` files under `sub_key`."""
        bind = getattr(self.log, "bind", None)
        if bind is not None:
            return bind(sub_key=str(sub_key))
        return logging.LoggerAdapter(self.log, {"sub_key": str(sub_key)})

    def publish(self, sub_key: str, table: Any) -> None:
        """Make one sub-step's result readable through `/results` now, not only when the job ends."""
        self.publish_result(str(sub_key), table)

    def resolve_path(self, path: str) -> Path:
        """A file named in a definition; relative paths are relative to the catalog's folder."""
        candidate = Path(path)
        if not candidate.is_absolute():
            folder = getattr(self.catalog, "folder", None)
            candidate = (Path(folder) if folder is not None else Path.cwd()) / candidate
        if not candidate.exists():
            raise JobDefinitionError(f"{self.job_class}: file {str(candidate)!r} does not exist")
        return candidate

    def option(self, name: str, default: str | None = None) -> str:
        """`[taskcenter] name` as the run got it; not set: `default`, else the declared default."""
        if name in self.options:
            return self.options[name]
        if default is not None:
            return default
        from taskcenter.adapters import config

        return config.default(name)

    def output_folder(self) -> Path:
        """A folder for this run's files (screenshots, reports), kept after the run."""
        self.work_folder.mkdir(parents=True, exist_ok=True)
        return self.work_folder


def sql_engine(conn_id: str) -> Any:
    """A SQLAlchemy engine for an Airflow connection, through the connection's own DB-API hook."""
    from airflow.sdk import BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and the execution API's variants
        raise JobDefinitionError(f"Airflow connection {conn_id!r} is not defined: {exc}") from exc
    hook = connection.get_hook()
    get_engine = getattr(hook, "get_sqlalchemy_engine", None)
    if get_engine is None:
        raise JobDefinitionError(f"Airflow connection {conn_id!r} ({connection.conn_type}) is not a SQL database")
    return get_engine()


def batch_pause(definition: Mapping[str, Any], *, where: str) -> float:
    """A definition's `batchPauseSeconds` (0 when absent): seconds between batches, to spare a busy source."""
    pause = definition.get("batchPauseSeconds", 0)
    if isinstance(pause, bool) or not isinstance(pause, int | float) or not 0 <= pause <= MAX_BATCH_PAUSE_SECONDS:
        raise JobDefinitionError(
            f"{where}: batchPauseSeconds must be a number from 0 to {MAX_BATCH_PAUSE_SECONDS}, got {pause!r}"
        )
    return float(pause)


def table(columns: list[str], rows: list[list[Any]] | list[tuple[Any, ...]]) -> dict[str, Any]:
    """A result table with columns in the given order (`as_table` adds the types)."""
    return {"schema": [{"name": c, "title": c} for c in columns], "data": [list(r) for r in rows]}
