"""Starts, supervises and stops the product's components for one AIRFLOW_HOME.

The embedded PostgreSQL server (when the home uses it) starts first; then Airflow's api-server,
dag-processor and triggerer, and the demo's mail catcher, and the scheduler once the api-server
answers. Each component runs in its own session, so stopping it also stops every process it
started: its own process group, and the task processes, which Airflow's task supervisor puts in
process groups of their own within that session; with PR_SET_PDEATHSIG a component also ends if
the launcher is killed. A component that dies is started again after a backoff (1 s, doubling to
60 s while it keeps dying within 30 s of its start), its exit cause written to the console and to
its log; the others keep serving.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from taskcenter.launcher.demo import DemoPaths
from taskcenter.launcher.home import PLAN_PROCESSOR, PLANS_BUNDLE, HomeSettings, bundle_names, component_environ
from taskcenter.launcher.postgres import ENGINE_DB, METADATA_DB, as_user

# Airflow's components, plus the local mail catcher. Two dag-processors: `dag-processor` for the
# dags folder and the examples (Airflow's cadence), `plan-processor` for the plans' bundle alone
# (parsed when a plan changes, never on a timer: docs/scale.md).
COMPONENTS = ("api-server", "scheduler", "dag-processor", PLAN_PROCESSOR, "triggerer")
HEALTH_PATH = "/api/v2/monitor/health"
_PR_SET_PDEATHSIG = 1
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
STABLE_AFTER = 30.0  # a component up this long has its backoff reset


class StartupError(RuntimeError):
    """A component died or the stack did not become healthy in time."""


def _die_with_parent() -> None:
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def airflow_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "airflow", *args]


def migrate(settings: HomeSettings, *, log_file: Path | None = None, sql_alchemy_conn: str | None = None) -> None:
    """`airflow db migrate`: Airflow's schema, FAB's and taskcenter's own (its DB manager).

    `sql_alchemy_conn` migrates another database than the home's (the SQLite DB being moved).
    """
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn} if sql_alchemy_conn else {}
    _run_step(settings, airflow_command("db", "migrate"), what="`airflow db migrate`", log_file=log_file, env=env)
    if sql_alchemy_conn is None and settings.sql_alchemy_conn == settings.sqlite_url:
        use_wal(settings.sqlite_file)


def use_wal(path: Path) -> None:
    """Put a SQLite DB in write-ahead-log mode (kept in the file): readers no longer wait for the
    writer, and a writer only for the previous writer."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(path, timeout=60)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def reconcile(settings: HomeSettings, *, log_file: Path | None = None) -> None:
    """`taskcenter reconcile`: the plans' DAG files follow the DB (after a lost folder, an upgrade)."""
    command = [sys.executable, "-m", "taskcenter.cli.main", "reconcile"]
    _run_step(settings, command, what="`taskcenter reconcile`", log_file=log_file)


def prepare_demo(settings: HomeSettings, *, log_file: Path | None = None) -> None:
    """`taskcenter demo`: the demo source database and connections (only what is missing)."""
    command = [sys.executable, "-m", "taskcenter.cli.main", "demo", "--smtp-port", str(settings.smtp_port)]
    if (server := settings.embedded_postgres) is not None:
        command += ["--engine-socket", str(server.socket_dir.resolve())]
    _run_step(settings, command, what="`taskcenter demo`", log_file=log_file)


def _run_step(
    settings: HomeSettings, command: list[str], *, what: str, log_file: Path | None, env: dict[str, str] | None = None
) -> None:
    """Run a one-off set-up command in the home's environment; fail loudly, pointing at its log."""
    with _output(log_file) as out:
        result = subprocess.run(
            command, env={**settings.environ(), **(env or {})}, cwd=settings.home, stdout=out, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        raise StartupError(f"{what} failed (exit {result.returncode}); see {log_file or 'output'}")


@contextlib.contextmanager
def _output(log_file: Path | None) -> Iterator[IO[bytes] | None]:
    if log_file is None:
        yield None
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as handle:
        yield handle


@dataclass
class Component:
    """One supervised process: how to start it, its log, and its restart history."""

    name: str
    command: Sequence[str]
    log_file: Path
    user: str | None = None  # run as this system user (the embedded PostgreSQL server as root)
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None
    cwd: Path | None = None
    environ: dict[str, str] = field(default_factory=dict)  # options of this component alone

    def start(self, env: dict[str, str], *, cwd: Path) -> None:
        self.cwd = cwd
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                list(self.command),
                env={**env, **self.environ},
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
                **as_user(self.user),
            )
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def exit_cause(self) -> str:
        code = self.exit_code()
        if code is None:
            return "running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
            return f"killed by signal {-code}"
        cause = f"exit code {code}"
        if last := _last_error_line(self.log_file):
            cause += f": {last}"
        return cause

    def signal_group(self, signum: int) -> None:
        """`signum` to every process the component started, whether its leader lives or not.

        Its session, not only its process group: Airflow's task supervisor gives each task
        runner a process group of its own (`setpgid`), so a signal to the scheduler's group
        missed the tasks, and after a crash of the scheduler they ran on, unheard, while their
        runs were tried again (docs/job-types.md, "Crashes").
        """
        if self.process is None:
            return
        for group in sorted(session_groups(self.process.pid) | {self.process.pid}):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signum)

    def note(self, message: str) -> None:
        """A line in the component's own log (the launcher's view of it)."""
        with contextlib.suppress(OSError), self.log_file.open("a") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} taskcenter launcher: {message}\n")


def session_groups(session: int) -> set[int]:
    """The process groups of the processes in `session` (Linux `/proc`; elsewhere none)."""
    groups: set[int] = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):  # gone meanwhile
                pid = int(entry.name)
                if os.getsid(pid) == session:
                    groups.add(os.getpgid(pid))
    return groups


def _last_error_line(log_file: Path, *, tail_bytes: int = 16384) -> str | None:
    """The last line of a log's tail that names an error, to say why a component stopped."""
    try:
        with log_file.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - tail_bytes))
            lines = log.read().decode(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if any(word in line for word in ("Error", "error", "Exception", "FATAL", "PANIC")):
            return line.strip()[:300]
    return None


def mail_catcher(*, port: int, outbox: Path, log_dir: Path) -> Component:
    """The demo's local mail catcher on 127.0.0.1:`port`, keeping each message in `outbox`."""
    command = [
        sys.executable, "-m", "taskcenter.launcher.mail_catcher",
        "--host", "127.0.0.1", "--port", str(port), "--outbox", str(outbox),
    ]  # fmt: skip
    return Component(name="mail-catcher", command=command, log_file=log_dir / "mail-catcher.log")


def backoff(failures_in_a_row: int) -> float:
    """Seconds before the next start of a component that died `failures_in_a_row` times quickly."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, failures_in_a_row - 1))


@dataclass
class AirflowStack:
    """The product's components for one home; `with AirflowStack(...) as stack:` stops them at the end."""

    settings: HomeSettings
    components: list[Component] = field(default_factory=list)
    database: Component | None = None
    report: Callable[[str], None] = field(default=lambda message: print(f"taskcenter: {message}", flush=True))

    @property
    def log_dir(self) -> Path:
        return self.settings.home / "logs" / "components"

    @property
    def all_components(self) -> list[Component]:
        return ([self.database] if self.database is not None else []) + self.components

    def start_database(self) -> None:
        """Start the embedded PostgreSQL server (if the home uses one) and create its databases."""
        server = self.settings.embedded_postgres
        if server is None or self.database is not None:
            return
        log_file = self.log_dir / "postgres.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        server.prepare(log_file=log_file)
        self.database = Component(
            name="postgres",
            command=server.command(),
            log_file=log_file,
            user=server.run_as(),
            stop_signal=signal.SIGINT,
        )
        self.database.start(self.settings.environ(), cwd=server.root)
        database = self.database
        server.wait_ready(alive=lambda: database.exit_code() is None)
        server.ensure_databases(METADATA_DB, ENGINE_DB)

    def start(self) -> None:
        self.start_database()
        self.components = [
            Component(
                name=name,
                command=self._command(name),
                log_file=self.log_dir / f"{name}.log",
                environ=component_environ(name),
            )
            for name in COMPONENTS
        ]
        outbox = DemoPaths(home=self.settings.home).outbox
        self.components.append(mail_catcher(port=self.settings.smtp_port, outbox=outbox, log_dir=self.log_dir))
        self.start_in_order(later=[c for c in self.components if c.name == "scheduler"], cwd=self.settings.home)

    def start_in_order(self, *, later: Sequence[Component], cwd: Path) -> None:
        """Start every component, `later` (the schedulers) once the api-server answers.

        The first thing a scheduler does is reset the tasks a dead scheduler left, and each task it
        queues calls the api-server first thing. Queued while the api-server still started, a
        task's start was refused, and Airflow failed that try without running the job or logging a
        line (docs/job-types.md, "Crashes").
        """
        env = self.settings.environ()
        for component in self.components:
            if component not in later:
                component.start(env, cwd=cwd)
        self.wait_until_answering()
        for component in later:
            component.start(env, cwd=cwd)

    def wait_until_answering(self, *, timeout: float = 180.0) -> None:
        """Until the api-server answers HTTP (any status), it stopped, or `timeout` passed."""
        api = next((c for c in self.components if c.name == "api-server"), None)
        deadline = time.monotonic() + timeout
        while api is not None and api.exit_code() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.settings.base_url + HEALTH_PATH, timeout=5):
                    return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)

    def _command(self, name: str) -> list[str]:
        if name == PLAN_PROCESSOR:
            return [sys.executable, "-m", "taskcenter.cli.main", "plan-processor", "--bundle-name", PLANS_BUNDLE]
        return airflow_command(*self._args(name))

    def _args(self, name: str) -> list[str]:
        if name == "api-server":
            return [name, "--port", str(self.settings.port), "--host", self.settings.host]
        if name == "dag-processor":
            others = [bundle for bundle in bundle_names(self.settings) if bundle != PLANS_BUNDLE]
            return [name, *(arg for bundle in others for arg in ("--bundle-name", bundle))]
        return [name]

    def dead_components(self) -> list[Component]:
        return [c for c in self.all_components if c.exit_code() is not None]

    def supervise(self) -> None:
        """One round of supervision: note each newly dead component, start those whose backoff passed."""
        now = time.monotonic()
        for component in self.dead_components():
            if component.restart_at is None:
                # What the dead leader started lives on in its session (a scheduler's LocalExecutor
                # workers, their tasks, the log server): end it before a new one starts. A task
                # ended so is an interrupted try: its run follows retryTimes (docs/job-types.md).
                component.signal_group(signal.SIGKILL)
                uptime = now - component.started_at
                component.failures_in_a_row = 1 if uptime >= STABLE_AFTER else component.failures_in_a_row + 1
                delay = backoff(component.failures_in_a_row)
                component.restart_at = now + delay
                message = (
                    f"{component.name} stopped ({component.exit_cause()}) after {uptime:.0f} s; "
                    f"starting it again in {delay:.0f} s (log {component.log_file})"
                )
                component.note(message)
                self.report(message)
            elif now >= component.restart_at:
                component.restarts += 1
                component.start(self.settings.environ(), cwd=component.cwd or self.settings.home)
                component.note(f"started again (restart {component.restarts}, pid {component.pid})")
                self.report(f"{component.name} started again (restart {component.restarts})")

    def watch(self, stop: threading.Event, *, interval: float = 1.0) -> None:
        """Supervise until `stop` is set (the launcher's main loop; a thread in the tests' harness)."""
        while not stop.wait(interval):
            self.supervise()

    def wait_until_healthy(self, *, timeout: float = 180.0) -> None:
        """Until `/api/v2/monitor/health` reports DB, scheduler, dag-processor and triggerer healthy."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if dead := self.dead_components():
                names = ", ".join(f"{c.name} ({c.exit_cause()}, log {c.log_file})" for c in dead)
                raise StartupError(f"component(s) stopped during start-up: {names}")
            try:
                with urllib.request.urlopen(self.settings.base_url + HEALTH_PATH, timeout=5) as response:
                    health = json.load(response)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last = str(exc)
            else:
                unhealthy = [
                    part
                    for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
                    if (health.get(part) or {}).get("status") != "healthy"
                ]
                if not unhealthy:
                    return
                last = f"not yet healthy: {', '.join(unhealthy)}"
            time.sleep(0.5)
        raise StartupError(f"Airflow did not become healthy within {timeout:.0f}s ({last}); logs in {self.log_dir}")

    def stop(self, *, timeout: float = 20.0) -> None:
        """Stop Airflow's components (their process groups), then the database they use."""
        _stop_group(self.components, timeout=timeout)
        if self.database is not None:
            _stop_group([self.database], timeout=timeout)

    def __enter__(self) -> AirflowStack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _stop_group(components: Sequence[Component], *, timeout: float) -> None:
    """Each component's stop signal to its process group, then SIGKILL what is left after `timeout`."""
    for component in components:
        component.signal_group(component.stop_signal)
    deadline = time.monotonic() + timeout
    for component in components:
        if component.process is None:
            continue
        with contextlib.suppress(subprocess.TimeoutExpired):
            component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
    for component in components:
        component.signal_group(signal.SIGKILL)
        if component.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=5)
