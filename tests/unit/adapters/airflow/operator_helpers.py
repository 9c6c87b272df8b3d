"""The operator tests' doubles, shared by the unit and the component tests: two deployment runners
(one counts its tries, one starts `sleep 60` in a session of its own), a task instance with its own
XComs, and the `configured` fixture that points taskcenter's job runners at them.

Pure at import: only `spawn_and_wait`, when a test runs it, starts a process. A test module takes
the fixture by importing `configured_fixture` (registered as `configured`).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from taskcenter.adapters.airflow.naming import CANCEL_REQUEST_KEY

SPAWN_JOB = "com.example.taskcenter.SpawnJob"
COUNT_JOB = "com.example.taskcenter.CountJob"
STARTED: list[int] = []
RAN: list[int] = []


def count_run(job: Any) -> str:
    """A deployment's runner with a side effect to count: the try numbers it ran in."""
    RAN.append(job.try_number)
    return "ran"


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

    def __init__(self, *, try_number: int = 1, max_tries: int | None = None) -> None:
        self.xcoms: dict[str, Any] = {}
        self.try_number = try_number
        if max_tries is not None:  # Airflow's RuntimeTaskInstance has it; some callers' TIs do not
            self.max_tries = max_tries

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


@pytest.fixture(name="configured")
def configured_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIRFLOW__TASKCENTER__RESULTS_FOLDER", str(tmp_path / "results"))
    runners = {SPAWN_JOB: f"{__name__}:spawn_and_wait", COUNT_JOB: f"{__name__}:count_run"}
    monkeypatch.setenv("AIRFLOW__TASKCENTER__JOB_RUNNERS", json.dumps(runners))
    STARTED.clear()
    RAN.clear()
    return tmp_path
