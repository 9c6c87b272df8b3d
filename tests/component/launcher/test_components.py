"""The launcher's supervision: a component that dies is noted with its cause and started again."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

from taskcenter.launcher import components
from taskcenter.launcher.components import AirflowStack, Component
from taskcenter.launcher.home import SQLITE, HomeSettings


def _stack(tmp_path: Path, *commands: list[str]) -> tuple[AirflowStack, list[str]]:
    messages: list[str] = []
    stack = AirflowStack(HomeSettings(home=tmp_path), report=messages.append)
    stack.components = [
        Component(name=f"c{i}", command=command, log_file=tmp_path / f"c{i}.log") for i, command in enumerate(commands)
    ]
    for component in stack.components:
        component.start({}, cwd=tmp_path)
    return stack, messages


def _until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_dead_component_is_reported_and_started_again(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(components, "BACKOFF_FIRST", 0.1)
    crash = [sys.executable, "-c", "import sys; print('RuntimeError: database is locked', flush=True); sys.exit(3)"]
    stack, messages = _stack(tmp_path, crash, [sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        first = stack.components[0]
        _until(lambda: first.exit_code() is not None)
        stack.supervise()
        assert len(messages) == 1
        assert "c0 stopped (exit code 3: RuntimeError: database is locked)" in messages[0]
        assert "launcher: c0 stopped" in first.log_file.read_text()
        _until(lambda: time.monotonic() >= (first.restart_at or 0))
        stack.supervise()
        assert first.restarts == 1 and messages[-1] == "c0 started again (restart 1)"
        assert stack.components[1].restarts == 0 and stack.components[1].exit_code() is None
    finally:
        stack.stop(timeout=2)


def test_a_component_killed_by_a_signal_says_so_and_quick_deaths_back_off(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(components, "BACKOFF_FIRST", 0.1)
    stack, messages = _stack(tmp_path, [sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        component = stack.components[0]
        delays = []
        for _ in range(3):
            component.signal_group(signal.SIGKILL)
            _until(lambda: component.exit_code() is not None)
            stack.supervise()
            delays.append(component.restart_at - time.monotonic())
            _until(lambda: time.monotonic() >= component.restart_at)
            stack.supervise()
        assert "killed by SIGKILL" in messages[0]
        assert delays[0] < delays[1] < delays[2], delays
        assert component.restarts == 3
    finally:
        stack.stop(timeout=2)


def test_stop_ends_every_process_group(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    stack, _ = _stack(tmp_path, [sys.executable, "-c", stubborn])
    _until(lambda: "ready" in stack.components[0].log_file.read_text())
    started = time.monotonic()
    stack.stop(timeout=1)
    assert stack.components[0].exit_code() == -signal.SIGKILL
    assert time.monotonic() - started < 10


# A component that starts a child in a process group of its own, as Airflow's task supervisor
# starts each task runner, and prints the child's pid.
WITH_A_TASK = (
    "import subprocess, sys, time;"
    "task = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], process_group=0);"
    "print(task.pid, flush=True); time.sleep(60)"
)


def _task_pid(component: Component) -> int:
    _until(lambda: component.log_file.read_text().strip().isdigit())
    return int(component.log_file.read_text())


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie its new parent (init) has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].startswith("Z")
    except OSError:
        return True


def test_the_tasks_of_a_dead_component_end_before_it_starts_again(tmp_path: Path, monkeypatch) -> None:
    """A scheduler killed outright: its tasks (other process groups, same session) must not run on."""
    monkeypatch.setattr(components, "BACKOFF_FIRST", 0.1)
    stack, messages = _stack(tmp_path, [sys.executable, "-c", WITH_A_TASK])
    component = stack.components[0]
    try:
        task = _task_pid(component)
        assert os.getpgid(task) == task != component.pid and os.getsid(task) == component.pid
        os.kill(component.pid, signal.SIGKILL)  # the leader alone, as the OOM killer would
        _until(lambda: component.exit_code() is not None)
        stack.supervise()
        _until(lambda: _gone(task))
        assert "killed by SIGKILL" in messages[0]
    finally:
        stack.stop(timeout=2)


def test_stop_reaches_the_tasks_of_a_component(tmp_path: Path) -> None:
    stack, _ = _stack(tmp_path, [sys.executable, "-c", WITH_A_TASK])
    task = _task_pid(stack.components[0])
    stack.stop(timeout=5)
    _until(lambda: _gone(task))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_scheduler_starts_once_the_api_server_answers(tmp_path: Path, monkeypatch) -> None:
    """Tasks it queues call the api-server first; queued before it listens, their start was refused."""
    port = _free_port()
    settings = HomeSettings(home=tmp_path, database=SQLITE, host="127.0.0.1", port=port, smtp_port=_free_port())
    stack = AirflowStack(settings, report=lambda message: None)
    answers_late = (
        "import http.server, time; time.sleep(2);"
        f"http.server.HTTPServer(('127.0.0.1', {port}), http.server.BaseHTTPRequestHandler).serve_forever()"
    )
    idle = "import time; time.sleep(60)"
    monkeypatch.setattr(
        stack, "_command", lambda name: [sys.executable, "-c", answers_late if name == "api-server" else idle]
    )
    try:
        stack.start()
        started = {c.name: c.started_at for c in stack.components}
        assert started["scheduler"] - started["api-server"] >= 2  # it answers (501) only then
        assert started["dag-processor"] - started["api-server"] < 1  # the others do not wait
    finally:
        stack.stop(timeout=2)
