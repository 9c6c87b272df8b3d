"""Crashes: a run whose scheduler or worker died runs again only as its retryTimes allows.

One taskcenter of its own on the embedded PostgreSQL server, as `make run` starts it, supervised
as `make run` supervises it. The job (`SideEffectJob`) appends a line to a file each time it
starts, so a second run of it cannot go unseen. Nothing here waits on luck: every wait polls a
condition with a deadline (docs/job-types.md, "Crashes", says what is checked and the bound).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.integration.harness import RunningTaskCenter, ok, start_taskcenter, wait_for
from tests.integration.jobs import SIDE_EFFECT

# The product fails a try whose worker died after 60 s without a heartbeat; 20 s here keeps the
# module short (tasks heartbeat every 2 s).
HEARTBEAT_TIMEOUT = 20
INTERRUPTED = (
    "try 2 not run: 1 try of this run already started, the last one interrupted (its worker, the "
    "scheduler or the whole product stopped), and retryTimes 0 allows 1 in all; this run ends FAILED"
)


@pytest.fixture(scope="module")
def product() -> Iterator[RunningTaskCenter]:
    # Outside pytest's temp root, like conftest's `home_dir`: the embedded server runs as its own user.
    home = Path(tempfile.mkdtemp(prefix="taskcenter-test-crashes-"))
    try:
        running = start_taskcenter(
            backend="postgres",
            home=home,
            extra={"scheduler": {"task_instance_heartbeat_timeout": str(HEARTBEAT_TIMEOUT)}},
        )
        try:
            yield running
        finally:
            running.stop()
    finally:
        if not os.environ.get("TASKCENTER_KEEP_TEST_HOMES"):
            shutil.rmtree(home, ignore_errors=True)


@dataclass
class Run:
    """One plan's run of the side-effect job, started now."""

    tc: RunningTaskCenter
    group: str
    key: str
    dag_id: str
    marks: Path

    def context(self) -> dict[str, Any]:
        (run,) = ok(self.tc.request("GET", "/api/contexts", params={"entityGroup": self.group, "entityKey": self.key}))[
            "data"
        ]
        return run

    def task(self) -> dict[str, Any]:
        """The job task instance of the run (its current try)."""
        (dag_run,) = self.tc.dag_runs(self.dag_id)
        response = self.tc.request(
            "GET", f"/api/v2/dags/{self.dag_id}/dagRuns/{dag_run['dag_run_id']}/taskInstances/job"
        )
        assert response.status_code == 200, response.text
        return response.json()

    def starts(self) -> list[str]:
        """The job's own record: `started <try> <pid>` at each start, `ended <try>` at each end."""
        return self.marks.read_text().splitlines() if self.marks.exists() else []

    def logs(self) -> list[str]:
        parts = ok(self.tc.request("GET", f"/api/contexts/{self.context()['id']}/logs", params={"block": "false"}))[
            "data"
        ]
        return [line for part in parts for line in part["logs"]]


def start_run(
    tc: RunningTaskCenter, group: str, key: str, params: dict[str, Any], *, retry_times: int, seconds: float
) -> Run:
    marks = tc.home / f"marks-{group}-{key}.txt"
    job = {
        "jobClass": SIDE_EFFECT,
        "jobParams": {**params, "path": str(marks), "seconds": seconds},
        "retryTimes": retry_times,
    }
    plan = ok(
        tc.request(
            "POST", "/api/schedules", json={"entityGroup": group, "entityKey": key, "planItems": [], "execDetail": job}
        )
    )["data"]
    ok(
        tc.request(
            "POST",
            "/api/schedules",
            json={"entityGroup": group, "entityKey": key, "planItems": [{"triggerType": "ONCE"}]},
        )
    )
    return Run(tc=tc, group=group, key=key, dag_id=f"taskcenter_plan_{plan['id']}", marks=marks)


def at(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


def kill_outright(processes: list[psutil.Process]) -> None:
    """SIGKILL, all at once, as a crash of their machine ends them."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_killed_scheduler_s_runs_run_again_only_as_retry_times_allows(product: RunningTaskCenter) -> None:
    tc = product
    no_retry = start_run(tc, "PIPELINE", "1", {"pipeline": 1}, retry_times=0, seconds=600)
    one_retry = start_run(tc, "PIPELINE", "2", {"pipeline": 2}, retry_times=1, seconds=10)
    for run in (no_retry, one_retry):
        wait_for(
            f"{run.group} {run.key} started",
            lambda run=run: run.starts() and run.context()["heartbeatTime"],
            timeout=60,
            tc=tc,
        )

    scheduler = psutil.Process(next(c.pid for c in tc.stack.components if c.name == "scheduler"))
    doomed = [scheduler, *scheduler.children(recursive=True)]  # LocalExecutor workers and the tasks
    killed_at = time.monotonic()
    kill_outright(doomed)
    wait_for("the scheduler and its tasks gone", lambda: all(gone(p) for p in doomed), timeout=10, tc=tc)
    beat = no_retry.context()["heartbeatTime"]

    def ended() -> dict[str, Any] | None:
        context, task = no_retry.context(), no_retry.task()
        if task["try_number"] == 1:  # not reset yet: dead, so its heartbeat stands still
            assert context["heartbeatTime"] == beat, (context, beat)
        return context if context["jobStatus"] == "FAILED" else None

    failed = wait_for("the run without retries FAILED", ended, timeout=120, tc=tc, interval=1)
    bound = time.monotonic() - killed_at
    print(f"\nkilled scheduler -> run FAILED in {bound:.1f} s")
    assert bound < 90  # docs/job-types.md: within a minute of the crash, on an idle machine
    assert [line.split()[:2] for line in no_retry.starts()] == [["started", "1"]]  # ran once, never again
    assert any(line.endswith(f"[ERROR] {INTERRUPTED}") for line in no_retry.logs()), no_retry.logs()
    assert no_retry.task()["try_number"] == 2 and no_retry.task()["state"] == "failed"
    assert at(failed["heartbeatTime"]) <= at(failed["stopAt"])
    time.sleep(3)
    assert no_retry.context()["heartbeatTime"] == failed["heartbeatTime"]  # and it stays there

    done = wait_for(
        "the run with one retry SUCCESSFUL", lambda: one_retry.context()["jobStatus"] == "SUCCESSFUL", timeout=60, tc=tc
    )
    assert done
    assert [line.split()[:2] for line in one_retry.starts()] == [["started", "1"], ["started", "2"], ["ended", "2"]]
    assert not any("not run" in line for line in one_retry.logs())
    assert any("scheduler stopped (killed by SIGKILL)" in note for note in tc.restarts), tc.restarts
    assert any("scheduler started again" in note for note in tc.restarts), tc.restarts


def test_a_run_whose_worker_died_ends_failed_saying_why(product: RunningTaskCenter) -> None:
    tc = product
    restarts = len(tc.restarts)
    run = start_run(tc, "NOTEBOOK", "1", {"notebook": 1}, retry_times=0, seconds=600)
    wait_for("the job started", lambda: run.starts() and run.task()["state"] == "running", timeout=60, tc=tc)
    task = psutil.Process(run.task()["pid"])
    supervisor = task.parent()  # Airflow's supervisor, in a LocalExecutor worker of the scheduler
    assert supervisor is not None and task.pid != supervisor.pid
    killed_at = time.monotonic()
    kill_outright([supervisor])
    # The task is told to stop when its supervisor dies: its job does not go on unheard.
    wait_for("the task gone with its supervisor", lambda: gone(task), timeout=10, tc=tc)

    failed = wait_for(
        "the run FAILED",
        lambda: (c := run.context())["jobStatus"] == "FAILED" and c,
        timeout=HEARTBEAT_TIMEOUT + 60,
        tc=tc,
        interval=1,
    )
    print(
        f"\nkilled worker -> run FAILED in {time.monotonic() - killed_at:.1f} s (heartbeat timeout "
        f"{HEARTBEAT_TIMEOUT} s)"
    )
    assert [line.split()[:2] for line in run.starts()] == [["started", "1"]]
    reason = (
        "the task's worker stopped (killed, or its machine went down): "
        f"Task did not emit heartbeat within time limit ({HEARTBEAT_TIMEOUT} seconds)"
    )
    assert any(reason in line for line in run.logs()), run.logs()
    assert run.task()["try_number"] == 1
    assert at(failed["heartbeatTime"]) <= at(failed["stopAt"])
    assert len(tc.restarts) == restarts  # the scheduler lived on
