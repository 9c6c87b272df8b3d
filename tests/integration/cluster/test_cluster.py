"""The product on Airflow's CeleryExecutor, each component its own host (docs/cluster.md).

Run-now of every job type, logs while running and after, results, cancel of a run on a worker
host, a worker host killed mid-run, two schedulers firing a cron plan, and how soon a new plan is
schedulable. The runs' task instances say which worker host ran them.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psutil
import pytest
import sqlalchemy as sa

from tests.integration.cluster.conftest import RunningCluster
from tests.integration.harness import ok, wait_for

pytestmark = pytest.mark.timeout(600)

DEMO_ENTITIES = [
    ("NOTEBOOK", "1"),
    ("PIPELINE", "1"),
    ("DATASET", "1-1"),
    ("APP_REFRESH", "1"),
    ("SCREENSHOT", "1"),
    ("APP_EMAIL", "1"),
    ("DB_BATCH_SYNC", "1"),
]
WORKERS = {"worker-1", "worker-2"}


def run_now(cluster: RunningCluster, group: str, key: str, *, sync: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "entityGroup": group,
        "entityKey": key,
        "planItems": [{"triggerType": "ONCE"}],
        "sync": sync,
    }
    return ok(cluster.request("POST", "/api/schedules", json=body))["data"]


def task_instances(cluster: RunningCluster, plan_id: int, context_id: int) -> list[dict[str, Any]]:
    """The run's task instances as the metadata DB has them (which host ran each, its pid)."""
    engine = sa.create_engine(cluster.settings.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT ti.task_id, ti.hostname, ti.pid, ti.state FROM task_instance ti JOIN dag_run dr"
                    " ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id WHERE dr.id = :id AND dr.dag_id = :dag"
                ),
                {"id": context_id, "dag": f"taskcenter_plan_{plan_id}"},
            ).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def context(cluster: RunningCluster, context_id: int) -> dict[str, Any]:
    return ok(cluster.request("GET", f"/api/contexts/{context_id}"))["data"]


def delete_plan(cluster: RunningCluster, plan_id: int) -> None:
    cluster.request("PUT", f"/api/schedules/{plan_id}/cancel", json={})
    ok(cluster.request("DELETE", f"/api/schedules/{plan_id}"))


def test_every_job_type_runs_on_a_worker_host_with_its_logs_and_results(cluster: RunningCluster) -> None:
    hosts: set[str] = set()
    for group, key in DEMO_ENTITIES:
        view = run_now(cluster, group, key, sync=True)
        assert view["jobStatus"] == "SUCCESSFUL", (group, view, cluster.component_logs())
        context_id = view["contextId"]
        logs = ok(cluster.request("GET", f"/api/contexts/{context_id}/logs"))
        assert logs["done"] and any(part["logs"] for part in logs["data"]), (group, logs)
        results = ok(cluster.request("GET", f"/api/contexts/{context_id}/results"))
        assert results["done"] and results["data"], (group, results)
        ran_on = {ti["hostname"] for ti in task_instances(cluster, view["id"], context_id) if ti.get("hostname")}
        assert ran_on and ran_on <= WORKERS, ran_on  # a worker host, never the api-server's
        hosts |= ran_on
        delete_plan(cluster, view["id"])
    assert hosts == WORKERS, f"every run went to {hosts}: Celery spreads runs over both workers"


def test_cancel_stops_a_run_on_its_worker_host_and_its_processes_are_gone(cluster: RunningCluster) -> None:
    view = run_now(cluster, "NOTEBOOK", "3", sync=False)
    context_id = view["contextId"]

    def running_with_logs() -> bool:
        logs = ok(cluster.request("GET", f"/api/contexts/{context_id}/logs", params={"block": "false"}))
        return context(cluster, context_id)["jobStatus"] == "RUNNING" and sum(len(p["logs"]) for p in logs["data"]) > 3

    wait_for("NOTEBOOK 3 running, its log growing", running_with_logs, timeout=120, tc=cluster)
    (job,) = [ti for ti in task_instances(cluster, view["id"], context_id) if ti["task_id"] == "job"]
    assert job["hostname"] in WORKERS and job["pid"]
    ok(cluster.request("PUT", f"/api/schedules/{view['id']}/cancel", json={}))
    wait_for(
        "the cancelled run CANCELLED",
        lambda: context(cluster, context_id)["jobStatus"] == "CANCELLED",
        timeout=60,
        tc=cluster,
    )
    assert not psutil.pid_exists(job["pid"]), f"the task's process {job['pid']} outlived the cancel"
    delete_plan(cluster, view["id"])


def test_a_worker_host_killed_mid_run_fails_the_run_and_never_leaves_it_running(cluster: RunningCluster) -> None:
    view = run_now(cluster, "NOTEBOOK", "3", sync=False)
    context_id = view["contextId"]

    def job_running_on_a_worker() -> dict[str, Any] | None:
        """The job's task instance once a worker runs it (the run is RUNNING before a worker took it)."""
        jobs = [ti for ti in task_instances(cluster, view["id"], context_id) if ti["task_id"] == "job"]
        return next((ti for ti in jobs if ti["state"] == "running" and ti["hostname"] and ti["pid"]), None)

    job = wait_for("NOTEBOOK 3's job running on a worker", job_running_on_a_worker, timeout=120, tc=cluster)
    assert job["hostname"] in WORKERS
    killed = cluster.component(job["hostname"])
    killed.signal_group(signal.SIGKILL)  # the whole host: the worker, its pool, the task's processes
    started = time.monotonic()
    ended = wait_for(
        "the run of the killed worker ended",
        lambda: (c := context(cluster, context_id))["jobStatus"] in ("FAILED", "SUCCESSFUL") and c,
        timeout=180,
        tc=cluster,
    )
    assert ended["jobStatus"] == "FAILED"  # retryTimes 0: failed by the heartbeat timeout (60 s)
    print(f"\nkilled worker host -> run FAILED in {time.monotonic() - started:.1f} s")
    logs = ok(cluster.request("GET", f"/api/contexts/{context_id}/logs"))
    assert any("worker stopped" in line for part in logs["data"] for line in part["logs"]), logs
    wait_for(
        "the killed worker started again",
        lambda: killed.exit_code() is None and killed.restarts >= 1,
        timeout=120,
        tc=cluster,
    )
    delete_plan(cluster, view["id"])


def test_a_new_plan_is_schedulable_within_a_second(cluster: RunningCluster) -> None:
    body = {
        "entityGroup": "NOTEBOOK",
        "entityKey": "1",
        "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 3 * * ?", "timeZone": "UTC"}],
    }
    created = time.monotonic()
    plan = ok(cluster.request("POST", "/api/schedules", json=body))["data"]
    dag_id = f"taskcenter_plan_{plan['id']}"

    def schedulable() -> bool:
        answer = cluster.request("GET", f"/api/v2/dags/{dag_id}")
        dag = answer.json() if answer.status_code == 200 else {}
        return bool(dag) and not dag["is_paused"] and dag.get("next_dagrun_run_after") is not None

    wait_for("the plan's DAG schedulable", schedulable, timeout=30, tc=cluster, interval=0.05)
    took = time.monotonic() - created
    print(f"\ncreate -> schedulable in {took:.2f} s")
    assert took <= 1.0
    delete_plan(cluster, plan["id"])


TICKING_FOR = 120.0  # seconds the cron plan of the two-scheduler test runs


@dataclass(frozen=True)
class TickingPlan:
    plan_id: int
    created: float  # time.monotonic() of its creation


@pytest.fixture(scope="module", autouse=True)
def ticking_plan(cluster: RunningCluster) -> Iterator[TickingPlan]:
    """A `*/5 * * * * ?` plan ticking while the module's other tests run (they need not wait for it):
    the two-scheduler test reads its runs once it has ticked for `TICKING_FOR` seconds. PIPELINE 2
    fails at once, so its runs cost little; they are counted, whatever their status."""
    body = {
        "entityGroup": "PIPELINE",
        "entityKey": "2",
        "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "*/5 * * * * ?", "timeZone": "UTC"}],
    }
    plan = ok(cluster.request("POST", "/api/schedules", json=body))["data"]
    yield TickingPlan(plan_id=plan["id"], created=time.monotonic())
    delete_plan(cluster, plan["id"])


def test_two_schedulers_fire_each_tick_of_a_cron_plan_exactly_once(
    cluster: RunningCluster, ticking_plan: TickingPlan
) -> None:
    time.sleep(max(0.0, ticking_plan.created + TICKING_FOR - time.monotonic()))
    plan_id = ticking_plan.plan_id
    ok(cluster.request("POST", f"/api/schedules/{plan_id}/disable", json={}))
    dag_id = f"taskcenter_plan_{plan_id}"
    runs = cluster.request("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 1000}).json()["dag_runs"]
    ticks = sorted(datetime.fromisoformat(r["run_after"]) for r in runs if r["run_type"] == "scheduled")
    assert len(ticks) >= 20, f"{len(ticks)} ticks in 2 minutes of a 5 s plan"
    assert len(set(ticks)) == len(ticks), "a tick fired twice"
    gaps = {(b - a).total_seconds() for a, b in zip(ticks, ticks[1:], strict=False)}
    assert gaps == {5.0}, f"ticks missed or off the schedule: {sorted(gaps)}"
