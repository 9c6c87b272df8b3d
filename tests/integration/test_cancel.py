"""Cancel for real, on both databases: each job type's slow demo entity (key 3) is run, cancelled
while it works, and must then be RUNNING until every process of the job is gone, CANCELLED within
10 s, with the cancel in its log and the Airflow run's note, and no side effect after the cancel
(no mail, no dataset swap, no sync commit, no further notebook cell or pipeline node).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
import sqlalchemy as sa

from taskcenter.domain.jobs import DEFAULT_JOB_CLASS
from taskcenter.domain.plans import EntityGroup
from tests.integration.harness import RunningTaskCenter, ok, wait_for

CANCEL_BOUND_SECONDS = 10.0


@dataclass(frozen=True)
class Slow:
    group: str
    key: str
    params: dict[str, Any]
    progress: str  # a log line that shows the job at work

    @property
    def id(self) -> str:
        return f"{self.group}-{self.key}"


SLOW = [
    Slow("NOTEBOOK", "3", {"notebook": 3}, "cell extract (2 of 5) started"),
    Slow("PIPELINE", "3", {"pipeline": 3}, "working: 1 of 11 s"),
    Slow("DATASET", "3-1", {"app": 3, "dataset": 1}, "rows staged"),
    Slow("APP_REFRESH", "3", {"app": 3}, "rows staged"),
    Slow("SCREENSHOT", "3", {"app": 3}, "slow-dashboard.html"),
    Slow("APP_EMAIL", "3", {"app": 3}, "slow-dashboard.html"),
    Slow("DB_BATCH_SYNC", "3", {"syncProj": 3}, "orders: batch 2,"),
]


def context(tc: RunningTaskCenter, context_id: int) -> dict[str, Any]:
    return ok(tc.request("GET", f"/api/contexts/{context_id}"))["data"]


def log_lines(tc: RunningTaskCenter, context_id: int) -> list[str]:
    """The run's log so far (`block=false`: not waiting for its end)."""
    body = ok(tc.request("GET", f"/api/contexts/{context_id}/logs", params={"block": "false"}))
    return [line for part in body["data"] for line in part["logs"]]


def job_processes(tc: RunningTaskCenter, dag_id: str, run_id: str) -> list[psutil.Process]:
    """The running task processes of the run and every process they started (kernel, Chromium...)."""
    found: list[psutil.Process] = []
    tis = tc.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    for ti in tis:
        if ti["state"] == "running" and ti.get("pid"):
            try:
                task = psutil.Process(ti["pid"])
                found += [task, *task.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
    return found


def own_session_children(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Chromium and a notebook's kernel start sessions of their own: they must be stopped too."""
    out = []
    for process in processes:
        try:
            if process.pid == os.getsid(process.pid):  # a session leader
                out.append(process)
        except (psutil.NoSuchProcess, ProcessLookupError):
            pass
    return out


def living(processes: list[psutil.Process]) -> list[int]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def side_effects(tc: RunningTaskCenter, slow: Slow) -> Any:
    """What the job would change outside taskcenter if it went on."""
    if slow.group == "APP_EMAIL":
        return sorted(p.name for p in (tc.home / "outbox").glob("*.eml"))
    if slow.group in ("DATASET", "APP_REFRESH"):  # the dataset's table, never swapped in
        engine = sa.create_engine(tc.engine_url)
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table("app3_orders"):
                    return None
                return conn.execute(sa.text("SELECT COUNT(*) FROM app3_orders")).scalar()
        finally:
            engine.dispose()
    if slow.group == "DB_BATCH_SYNC":
        engine = sa.create_engine(f"sqlite:///{tc.home / 'taskcenter' / 'demo' / 'target.db'}")
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table("orders"):
                    return None
                return conn.execute(sa.text("SELECT COUNT(*), MAX(id) FROM orders")).one()
        finally:
            engine.dispose()
    return None


@pytest.mark.parametrize("slow", SLOW, ids=[s.id for s in SLOW])
def test_cancel_stops_the_job_before_it_reports_cancelled(tc: RunningTaskCenter, slow: Slow) -> None:
    job_class = DEFAULT_JOB_CLASS[EntityGroup(slow.group)]
    body = {
        "entityGroup": slow.group,
        "entityKey": slow.key,
        "planItems": [{"triggerType": "ONCE"}],
        "execDetail": {"jobClass": job_class, "jobParams": slow.params, "retryTimes": 2},
    }
    started = ok(tc.request("POST", "/api/schedules", json=body))["data"]
    context_id, plan_id = started["contextId"], started["id"]
    dag_id = f"taskcenter_plan_{plan_id}"

    wait_for(
        f"{slow.id} at work",
        lambda: any(slow.progress in line for line in log_lines(tc, context_id)),
        timeout=90,
        tc=tc,
    )
    running = [r for r in tc.dag_runs(dag_id) if r["state"] == "running"]
    assert len(running) == 1, context(tc, context_id)
    (run,) = running
    own_programs = slow.group in ("NOTEBOOK", "SCREENSHOT", "APP_EMAIL")  # a kernel, Chromium

    def started() -> list[psutil.Process]:
        found = job_processes(tc, dag_id, run["dag_run_id"])
        return found if found and (own_programs <= bool(own_session_children(found))) else []

    processes = wait_for("the job's processes", started, timeout=20, tc=tc)

    before = side_effects(tc, slow)
    asked = time.monotonic()
    ok(tc.request("PUT", f"/api/schedules/{plan_id}/cancel", json={}))
    statuses: list[tuple[float, str, list[int]]] = []
    while True:
        status = context(tc, context_id)["jobStatus"]
        left = living(processes)
        statuses.append((time.monotonic() - asked, status, left))
        if status != "RUNNING" or time.monotonic() - asked > CANCEL_BOUND_SECONDS + 5:
            break
        time.sleep(0.1)
    took, status, _ = statuses[-1]
    assert status == "CANCELLED", statuses
    assert took <= CANCEL_BOUND_SECONDS, statuses
    assert living(processes) == [], f"CANCELLED while {living(processes)} still run"
    assert all(s == "RUNNING" for _, s, _ in statuses[:-1])
    print(f"{slow.id}: CANCELLED {took:.2f} s after the request")

    lines = log_lines(tc, context_id)
    assert any("cancel requested by admin at" in line for line in lines), lines[-20:]
    note = tc.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}").json()["note"]
    assert note and note.startswith("taskcenter: cancel requested by admin at"), note
    time.sleep(1)  # nothing further happens after the run ended
    assert side_effects(tc, slow) == before
    assert log_lines(tc, context_id) == lines
    if slow.group == "PIPELINE":
        assert not any("nodeId: 3" in line for line in lines)  # the last node never started
    if slow.group == "NOTEBOOK":
        assert not any("publishing:" in line for line in lines)  # nor did the notebook's last cell
    assert context(tc, context_id)["jobStatus"] == "CANCELLED"  # no retry (retryTimes 2)


def test_deleting_a_plan_while_its_job_runs_stops_the_job(tc: RunningTaskCenter) -> None:
    """Airflow refuses to delete a DAG with a running task: the plan's delete stops it first."""
    body = {"entityGroup": "PIPELINE", "entityKey": "3", "planItems": [{"triggerType": "ONCE"}]}
    started = ok(tc.request("POST", "/api/schedules", json=body))["data"]
    dag_id = f"taskcenter_plan_{started['id']}"
    wait_for(
        "the job at work",
        lambda: any("working: 1 of" in line for line in log_lines(tc, started["contextId"])),
        timeout=60,
        tc=tc,
    )
    (run,) = [r for r in tc.dag_runs(dag_id) if r["state"] == "running"]
    processes = wait_for("the job's processes", lambda: job_processes(tc, dag_id, run["dag_run_id"]), timeout=10, tc=tc)
    ok(tc.request("DELETE", f"/api/schedules/{started['id']}"))
    assert tc.request("GET", f"/api/schedules/{started['id']}").status_code == 404
    wait_for(
        "the job's processes gone", lambda: not living(processes), timeout=CANCEL_BOUND_SECONDS, tc=tc, interval=0.2
    )
