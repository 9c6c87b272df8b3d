"""The operators' execute and on_kill on real processes, with Airflow's SIGTERM handling reproduced.

In Airflow 3.3 the supervisor stops a task (cancel, lost heartbeat, worker shutdown) by sending
SIGTERM to the task's process group; the task runner's handler only calls `task.on_kill()`
(`airflow/sdk/execution_time/task_runner.py`). These tests install the same handler, let a
thread send the SIGTERM while the job runs, and check that the job's processes, started in
sessions of their own, are gone and that `execute` ends at once.
"""

from __future__ import annotations

import json
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

from taskcenter.adapters.airflow.naming import CANCEL_REQUEST_KEY, CANCEL_STOPPED_KEY
from taskcenter.adapters.airflow.operators import TaskCenterJobOperator, TaskCenterOperator

SPAWN_JOB = "com.example.taskcenter.SpawnJob"
STARTED: list[int] = []


def spawn_and_wait(job: Any) -> None:
    """A deployment's runner that starts `sleep 60` in its own session, as Chromium is started."""
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    job.processes.add(process)
    STARTED.append(process.pid)
    time.sleep(60)
    raise AssertionError("the runner was not stopped")


class FakeTI:
    """The task instance as the operator uses it: its own XComs (the cancel request among them)."""

    task_id = "job"
    try_number = 1
    map_index = -1

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, *, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, *, task_ids: str, key: str, map_indexes: int) -> Any:
        assert (task_ids, map_indexes) == (self.task_id, self.map_index)
        return self.xcoms.get(key)

    def cancel_once(self, condition: Any, *, by: str = "alice", timeout: float = 10) -> threading.Thread:
        """What the api-server does on cancel: the request as this task's XCom, once `condition()`."""

        def request() -> None:
            deadline = time.monotonic() + timeout
            while not condition() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.xcoms[CANCEL_REQUEST_KEY] = {"by": by, "at": "2026-12-03T08:00:00+00:00"}

        thread = threading.Thread(target=request, daemon=True)
        thread.start()
        return thread


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIRFLOW__TASKCENTER__RESULTS_FOLDER", str(tmp_path / "results"))
    monkeypatch.setenv("AIRFLOW__TASKCENTER__JOB_RUNNERS", json.dumps({SPAWN_JOB: f"{__name__}:spawn_and_wait"}))
    STARTED.clear()
    return tmp_path


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


def test_on_kill_outside_execute_does_nothing(configured: Path) -> None:
    operator = TaskCenterJobOperator(
        task_id="job", job_class=SPAWN_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1"
    )
    operator.on_kill()  # e.g. after an execution timeout already ended execute


def test_a_finished_job_leaves_no_registered_process_behind(configured: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A runner that returns (or fails) with a child still running: execute's end stops it."""
    children: list[subprocess.Popen[bytes]] = []

    def leave_one_running(job: Any) -> str:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
        job.processes.add(child)
        children.append(child)
        return "done"

    monkeypatch.setitem(globals(), "spawn_and_wait", leave_one_running)
    operator = TaskCenterJobOperator(
        task_id="job", job_class=SPAWN_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1"
    )
    assert operator.execute({"ti": FakeTI(), "run_id": "manual__1"}) == "done"
    assert children[0].poll() is not None and _gone(children[0].pid)


def _operator() -> TaskCenterJobOperator:
    return TaskCenterJobOperator(task_id="job", job_class=SPAWN_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1")


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


def test_a_cancel_stops_the_job_at_its_next_checkpoint(configured: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps with side effects: none begins once the cancel is seen."""
    steps: list[int] = []
    ti = FakeTI()

    def stepwise(job: Any) -> None:
        for step in range(100):
            job.checkpoint(f"step {step}")
            steps.append(step)
            if step == 2:
                ti.xcoms[CANCEL_REQUEST_KEY] = {"by": "bob", "at": "2026-12-03T08:00:00+00:00"}
        raise AssertionError("the runner was not stopped")

    monkeypatch.setitem(globals(), "spawn_and_wait", stepwise)
    with pytest.raises(AirflowFailException, match="cancel requested by bob"):
        _operator().execute({"ti": ti, "run_id": "manual__1"})
    assert steps == [0, 1, 2]
    assert CANCEL_STOPPED_KEY in ti.xcoms


def test_a_cancel_that_comes_after_the_job_finished_changes_nothing(
    configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ti = FakeTI()

    def finishes(job: Any) -> str:
        ti.xcoms[CANCEL_REQUEST_KEY] = {"by": "carol", "at": "2026-12-03T08:00:00+00:00"}  # as it returns
        return "done"

    monkeypatch.setitem(globals(), "spawn_and_wait", finishes)
    assert _operator().execute({"ti": ti, "run_id": "manual__1"}) == "done"
    assert CANCEL_STOPPED_KEY not in ti.xcoms
    logged = capsys.readouterr().out  # the task's log (structlog writes it to stdout here)
    assert "cancel requested by carol at 2026-12-03T08:00:00+00:00 came too late: the job had finished" in logged
    assert "stopping the job" not in logged
