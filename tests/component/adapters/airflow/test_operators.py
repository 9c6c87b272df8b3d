"""The operators' execute and on_kill on real processes, with Airflow's SIGTERM handling reproduced.

In Airflow 3.3 the supervisor stops a task (cancel, lost heartbeat, worker shutdown) by sending
SIGTERM to the task's process group; the task runner's handler only calls `task.on_kill()`
(`airflow/sdk/execution_time/task_runner.py`). These tests install the same handler, let a
thread send the SIGTERM while the job runs, and check that the job's processes, started in
sessions of their own, are gone and that `execute` ends at once.

The rule for interrupted tries and cancels seen at checkpoints: tests/unit/adapters/airflow/test_operators.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from taskcenter.adapters.airflow.naming import CANCEL_STOPPED_KEY
from taskcenter.adapters.airflow.operators import TaskCenterJobOperator, TaskCenterOperator
from tests.unit.adapters.airflow import operator_helpers
from tests.unit.adapters.airflow.operator_helpers import (
    SPAWN_JOB,
    STARTED,
    FakeTI,
    configured_fixture,  # noqa: F401 - the fixture `configured`
)


@pytest.fixture
def sigterm_calls_on_kill() -> Iterator[list[TaskCenterOperator]]:
    """Airflow's task-runner handler: SIGTERM calls `on_kill()` of the task being run, nothing else."""
    running: list[TaskCenterOperator] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: running[-1].on_kill())
    try:
        yield running
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sigterm_once_started(*, timeout: float = 10) -> threading.Thread:
    """What the supervisor does on cancel: SIGTERM the task, here once the job's child runs."""

    def send() -> None:
        deadline = time.monotonic() + timeout
        while not STARTED and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_on_kill_ends_the_jobs_own_session_processes_and_the_runner(
    configured: Path, sigterm_calls_on_kill: list[TaskCenterOperator]
) -> None:
    operator = TaskCenterJobOperator(
        task_id="job", job_class=SPAWN_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1"
    )
    sigterm_calls_on_kill.append(operator)
    sender = _sigterm_once_started()
    started = time.monotonic()
    with pytest.raises(SystemExit, match=f"{SPAWN_JOB} for NOTEBOOK 1 stopped"):
        operator.execute({"ti": FakeTI(), "run_id": "manual__1"})
    elapsed = time.monotonic() - started
    sender.join()

    (pid,) = STARTED
    assert os.getpgid(0) != pid  # it was out of the task's process group, which Airflow signals
    assert _gone(pid)
    assert elapsed < 5  # before the supervisor's SIGKILL, not after a 60 s sleep
    assert operator._job is None


def test_a_finished_job_leaves_no_registered_process_behind(configured: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A runner that returns (or fails) with a child still running: execute's end stops it."""
    children: list[subprocess.Popen[bytes]] = []

    def leave_one_running(job: Any) -> str:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
        job.processes.add(child)
        children.append(child)
        return "done"

    monkeypatch.setattr(operator_helpers, "spawn_and_wait", leave_one_running)  # the runner `configured` names
    operator = TaskCenterJobOperator(
        task_id="job", job_class=SPAWN_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1"
    )
    assert operator.execute({"ti": FakeTI(), "run_id": "manual__1"}) == "done"
    assert children[0].poll() is not None and _gone(children[0].pid)


def _operator() -> TaskCenterJobOperator:
    return TaskCenterJobOperator(
        task_id="job", job_class=SPAWN_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1"
    )


def test_a_cancel_stops_the_running_job_and_its_processes_and_says_so(configured: Path) -> None:
    """The watch sees the request, the main thread is interrupted in the middle of the runner's
    sleep, the job's own-session child is gone, the marker says it stopped, and the try fails for
    good (AirflowFailException: no retry)."""
    ti = FakeTI()
    sender = ti.cancel_once(lambda: bool(STARTED))
    started = time.monotonic()
    with pytest.raises(AirflowFailException, match="cancelled: cancel requested by alice"):
        _operator().execute({"ti": ti, "run_id": "manual__1"})
    elapsed = time.monotonic() - started
    sender.join()
    (pid,) = STARTED
    assert _gone(pid)
    assert elapsed < 5
    assert ti.xcoms[CANCEL_STOPPED_KEY] == {"by": "alice", "at": "2026-12-03T08:00:00+00:00"}


SUPERVISOR_DIES = """
import os, signal, sys, time
from pathlib import Path

from airflow.sdk.execution_time import task_runner
from taskcenter.adapters.airflow import operators

folder = Path(sys.argv[1])
task = os.fork()
if task:  # the supervisor: dies (as if SIGKILLed) once its task runs
    while not (folder / "ready").exists():
        time.sleep(0.02)
    os._exit(0)
task_runner.SUPERVISOR_COMMS = object()  # what Airflow's task runner sets up
signal.signal(signal.SIGTERM, lambda *_: ((folder / "terminated").write_text(str(os.getpid())), os._exit(0)))
operators._end_with_supervisor()
(folder / "ready").write_text(str(os.getpid()))
time.sleep(30)
"""


def test_a_task_is_told_to_stop_when_its_supervisor_dies(tmp_path: Path) -> None:
    """Its job must not go on unheard (in a process group of its own) while the next try runs it again."""
    supervisor = subprocess.run([sys.executable, "-c", SUPERVISOR_DIES, str(tmp_path)], timeout=60)
    assert supervisor.returncode == 0
    task = int((tmp_path / "ready").read_text())
    deadline = time.monotonic() + 10
    try:
        while not _gone(task):  # ended by the signal (init reaps it)
            assert time.monotonic() < deadline, "the task went on after its supervisor died"
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(task, signal.SIGKILL)
    assert (tmp_path / "terminated").read_text() == str(task)  # by SIGTERM: `on_kill` stops the job
