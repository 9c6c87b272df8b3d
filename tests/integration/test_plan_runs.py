"""Plans running on the real scheduler: cron fire times, DEPENDENCY after success only, example DAGs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from tests.integration.harness import RunningTaskCenter, ok
from tests.integration.jobs import FAIL, SUCCEED


def job(job_class: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jobClass": job_class, "jobParams": params, "retryTimes": 0}


def plan(
    tc: RunningTaskCenter,
    group: str,
    key: str,
    params: dict[str, Any],
    *,
    job_class: str = SUCCEED,
    items: list | None = None,
) -> dict[str, Any]:
    body = {"entityGroup": group, "entityKey": key, "planItems": items or [], "execDetail": job(job_class, params)}
    return ok(tc.request("POST", "/api/schedules", json=body))["data"]


def run_now(tc: RunningTaskCenter, group: str, key: str) -> dict[str, Any]:
    body = {"entityGroup": group, "entityKey": key, "planItems": [{"triggerType": "ONCE"}], "sync": True}
    return ok(tc.request("POST", "/api/schedules", json=body))["data"]


def wait_for_runs(tc: RunningTaskCenter, dag_id: str, predicate: Any, *, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = tc.dag_runs(dag_id)
        if predicate(runs):
            return runs
        time.sleep(1)
    raise AssertionError(f"{dag_id}: condition not met within {timeout}s; runs: {runs}\n{tc.component_logs()}")


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_cron_plan_runs_at_its_fire_times_and_its_dependent_follows(tc: RunningTaskCenter) -> None:
    upstream = plan(
        tc,
        "PIPELINE",
        "1",
        {"pipeline": 1},
        items=[{"triggerType": "CRON_JOB", "cronDesc": "*/30 * * * * ?", "cronType": "CRON", "timeZone": "UTC"}],
    )
    item_id = upstream["planItems"][0]["id"]
    downstream = plan(
        tc,
        "NOTEBOOK",
        "2",
        {"notebook": 2},
        items=[{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}]}],
    )

    runs = wait_for_runs(
        tc,
        f"taskcenter_plan_{upstream['id']}",
        lambda rs: sum(r["state"] == "success" and r["run_type"] == "scheduled" for r in rs) >= 2,
        timeout=110,
    )
    done = [r for r in runs if r["state"] == "success" and r["run_type"] == "scheduled"]
    ticks = [_at(r["run_after"]) for r in done]
    assert all(t.second in (0, 30) for t in ticks), ticks
    assert all(b - a == timedelta(seconds=30) for a, b in zip(ticks, ticks[1:], strict=False)), ticks
    assert all(r["dag_run_id"].endswith(f"__items-{item_id}") for r in done)

    followers = wait_for_runs(
        tc, f"taskcenter_plan_{downstream['id']}", lambda rs: any(r["state"] == "success" for r in rs), timeout=30
    )
    assert all(r["run_type"] == "asset_triggered" for r in followers)
    listed = ok(tc.request("GET", f"/api/schedules/{upstream['id']}"))["data"]
    assert listed["jobStatus"] in ("SUCCESSFUL", "PENDING", "RUNNING") and listed["startAt"] and listed["nextStartAt"]


def test_dependency_runs_after_success_not_after_failure(tc: RunningTaskCenter) -> None:
    plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=FAIL)
    downstream = plan(
        tc,
        "NOTEBOOK",
        "2",
        {"notebook": 2},
        items=[{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}]}],
    )
    failed = run_now(tc, "PIPELINE", "1")
    assert ok(tc.request("GET", f"/api/schedules/{failed['id']}"))["data"]["jobStatus"] == "FAILED"
    time.sleep(8)
    assert tc.dag_runs(f"taskcenter_plan_{downstream['id']}") == []

    plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=SUCCEED)
    succeeded = run_now(tc, "PIPELINE", "1")
    assert ok(tc.request("GET", f"/api/schedules/{succeeded['id']}"))["data"]["jobStatus"] == "SUCCESSFUL"
    runs = wait_for_runs(
        tc, f"taskcenter_plan_{downstream['id']}", lambda rs: any(r["state"] == "success" for r in rs), timeout=30
    )
    assert len(runs) == 1


def _unpause(tc: RunningTaskCenter, dag_id: str) -> None:
    tc.wait_for_dag(dag_id)
    response = tc.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    assert response.status_code == 200, response.text


def test_example_dags_run_with_plans(tc: RunningTaskCenter) -> None:
    # A hand-written DAG that runs after a plan.
    _unpause(tc, "report_after_notebook1")
    before = len(tc.dag_runs("report_after_notebook1"))
    plan(tc, "NOTEBOOK", "1", {"notebook": 1})
    run_now(tc, "NOTEBOOK", "1")
    wait_for_runs(
        tc, "report_after_notebook1", lambda rs: sum(r["state"] == "success" for r in rs) > before, timeout=40
    )

    # A plan that runs after a hand-written DAG.
    dataset = plan(
        tc,
        "DATASET",
        "1-1",
        {"app": 1, "dataset": 1},
        items=[{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "DB_BATCH_SYNC", "entityKey": "1"}]}],
    )
    tc.wait_for_dag(f"taskcenter_plan_{dataset['id']}")  # its asset schedule is known before the event
    _unpause(tc, "sync_project_1_nightly")
    triggered = tc.request("POST", "/api/v2/dags/sync_project_1_nightly/dagRuns", json={"logical_date": None})
    assert triggered.status_code == 200, triggered.text
    wait_for_runs(
        tc,
        f"taskcenter_plan_{dataset['id']}",
        lambda rs: any(r["state"] == "success" and r["run_type"] == "asset_triggered" for r in rs),
        timeout=60,
    )
    tc.request("PATCH", "/api/v2/dags/sync_project_1_nightly", json={"is_paused": True})
    tc.request("PATCH", "/api/v2/dags/report_after_notebook1", json={"is_paused": True})


def test_dependency_configured_to_follow_any_end_runs_after_a_failure(tc: RunningTaskCenter) -> None:
    upstream = plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=FAIL)
    downstream = plan(
        tc,
        "NOTEBOOK",
        "2",
        {"notebook": 2},
        items=[
            {
                "triggerType": "DEPENDENCY",
                "triggerOn": "FINISHED",
                "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}],
            }
        ],
    )
    assert downstream["planItems"][0]["triggerOn"] == "FINISHED"
    # The upstream's DAG now also reports any end (a teardown task), without changing its run state.
    tc.wait_for_dag(f"taskcenter_plan_{upstream['id']}")
    # (Both files are parsed at once; the upstream's rewrite came while its first parse ran.)
    deadline = time.monotonic() + 10
    tasks: list[dict[str, Any]] = []
    while {t["task_id"] for t in tasks} != {"job", "finished"}:
        assert time.monotonic() < deadline, f"the upstream's DAG was not re-parsed with its end task: {tasks}"
        time.sleep(0.3)
        tasks = tc.request("GET", f"/api/v2/dags/taskcenter_plan_{upstream['id']}/tasks").json().get("tasks", [])
    failed = run_now(tc, "PIPELINE", "1")
    assert ok(tc.request("GET", f"/api/schedules/{failed['id']}"))["data"]["jobStatus"] == "FAILED"
    wait_for_runs(
        tc, f"taskcenter_plan_{downstream['id']}", lambda rs: any(r["state"] == "success" for r in rs), timeout=40
    )
