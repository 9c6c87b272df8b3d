"""Starts, watches and stops Airflow's components for one AIRFLOW_HOME.

Each component runs in its own session (process group), so stopping it also stops the task
processes it started; with PR_SET_PDEATHSIG a component also ends if the launcher is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from taskcenter.launcher.demo import DemoPaths
from taskcenter.launcher.home import HomeSettings

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")  # plus the local mail catcher
HEALTH_PATH = "/api/v2/monitor/health"
_PR_SET_PDEATHSIG = 1


class StartupError(RuntimeError):
    """A component died or the stack did not become healthy in time."""


def _die_with_parent() -> None:
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def airflow_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "airflow", *args]


def migrate(settings: HomeSettings, *, log_file: Path | None = None) -> None:
    """`airflow db migrate`: Airflow's schema, FAB's and taskcenter's own (its DB manager)."""
    _run_step(settings, airflow_command("db", "migrate"), what="`airflow db migrate`", log_file=log_file)


def reconcile(settings: HomeSettings, *, log_file: Path | None = None) -> None:
    """`taskcenter reconcile`: the plans' DAG files follow the DB (after a lost folder, an upgrade)."""
    command = [sys.executable, "-m", "taskcenter.cli.main", "reconcile"]
    _run_step(settings, command, what="`taskcenter reconcile`", log_file=log_file)


def prepare_demo(settings: HomeSettings, *, log_file: Path | None = None) -> None:
    """`taskcenter demo`: the demo source database and connections (only what is missing)."""
    command = [sys.executable, "-m", "taskcenter.cli.main", "demo", "--smtp-port", str(settings.smtp_port)]
    _run_step(settings, command, what="`taskcenter demo`", log_file=log_file)


def _run_step(settings: HomeSettings, command: list[str], *, what: str, log_file: Path | None) -> None:
    """Run a one-off set-up command in the home's environment; fail loudly, pointing at its log."""
    with _output(log_file) as out:
        result = subprocess.run(command, env=settings.environ(), cwd=settings.home, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise StartupError(f"{what} failed (exit {result.returncode}); see {log_file or 'output'}")


@contextlib.contextmanager
def _output(log_file: Path | None) -> Iterator[int | object | None]:
    if log_file is None:
        yield None
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as handle:
        yield handle


@dataclass
class Component:
    name: str
    command: Sequence[str]
    log_file: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str], *, cwd: Path) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                list(self.command),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def signal_group(self, signum: int) -> None:
        # The whole group: task processes of a component may outlive its leader.
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


@dataclass
class AirflowStack:
    """Airflow's components for one home; `with AirflowStack(...) as stack:` stops them at the end."""

    settings: HomeSettings
    components: list[Component] = field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        return self.settings.home / "logs" / "components"

    def start(self) -> None:
        env = self.settings.environ()
        self.components = [
            Component(
                name=name,
                command=airflow_command(name, *self._args(name)),
                log_file=self.log_dir / f"{name}.log",
            )
            for name in COMPONENTS
        ]
        self.components.append(
            Component(
                name="mail-catcher",
                command=[
                    sys.executable, "-m", "taskcenter.launcher.mail_catcher",
                    "--host", "127.0.0.1", "--port", str(self.settings.smtp_port),
                    "--outbox", str(DemoPaths(home=self.settings.home).outbox),
                ],
                log_file=self.log_dir / "mail-catcher.log",
            )
        )
        for component in self.components:
            component.start(env, cwd=self.settings.home)

    def _args(self, name: str) -> list[str]:
        if name == "api-server":
            return ["--port", str(self.settings.port), "--host", self.settings.host]
        return []

    def dead_components(self) -> list[Component]:
        return [c for c in self.components if c.exit_code() is not None]

    def wait_until_healthy(self, *, timeout: float = 180.0) -> None:
        """Until `/api/v2/monitor/health` reports DB, scheduler, dag-processor and triggerer healthy."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if dead := self.dead_components():
                names = ", ".join(f"{c.name} (exit {c.exit_code()}, log {c.log_file})" for c in dead)
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
        """SIGTERM every component's process group, then SIGKILL what is left after `timeout`."""
        for component in self.components:
            component.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for component in self.components:
            if component.process is None:
                continue
            try:
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for component in self.components:
            component.signal_group(signal.SIGKILL)
            if component.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    component.process.wait(timeout=5)

    def __enter__(self) -> AirflowStack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
