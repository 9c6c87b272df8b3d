"""`/api/contexts` and cancel over HTTP on a running Airflow (spec 1.2.2, 1.2.3, 1.2.11 to 1.2.13)."""

from __future__ import annotations

import re
import time
from typing import Any

import psutil


def alive(pid: int) -> bool:
    """The process runs (a zombie waiting to be reaped by its parent has stopped)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

from tests.integration.harness import RunningTaskCenter, ok
from tests.integration.jobs import SLEEP, SUCCEED

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def make_plan(tc: RunningTaskCenter, group: str, key: str, params: dict[str, Any], *, job_class: str, items: list | None = None) -> dict[str, Any]:
    body = {"entityGroup": group, "entityKey": key, "planItems": items or [], "execDetail": {"jobClass": job_class, "jobParams": params, "retryTimes": 0}}
    return ok(tc.request("POST", "/api/schedules", json=body))["data"]


def test_context_of_a_run_as_in_the_spec(tc: RunningTaskCenter) -> None:
    plan = make_plan(tc, "NOTEBOOK", "1", {"notebook": 1}, job_class=SUCCEED)
    ran = ok(tc.request("POST", "/api/schedules", json={"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}], "sync": True}))["data"]
    context_id = ran["contextId"]
    once = ran["planItems"][0]

    data = ok(tc.request("GET", f"/api/contexts/{context_id}"))["data"]
    assert data["id"] == context_id and data["planId"] == plan["id"]
    assert data["entityGroup"] == "NOTEBOOK" and data["entityKey"] == "1"
    assert data["jobStatus"] == "SUCCESSFUL"
    for key in ("createdAt", "scheduleAt", "scheduledAt", "startAt", "stopAt"):
        assert DATETIME.match(data[key]), (key, data[key])
    assert data["scheduleAt"] == data["scheduledAt"]
    assert data["startAt"] <= data["stopAt"]
    assert data["createdBy"] == 1
    assert data["planItemId"] == once["id"] and data["planItem"]["triggerType"] == "ONCE" and data["planItem"]["id"] == once["id"]
    assert data["jobLogId"] == context_id and data["jobResultId"] == context_id
    assert data["execDetail"] == {"jobClass": SUCCEED, "jobParams": {"notebook": 1}, "retryTimes": 0}
    assert data["title"] == "notebook1" and data["entityCreatedByName"]
    assert isinstance(data["costTime"], int) and data["costTime"] >= 0
    assert "heartbeatTime" in data

    listing = ok(tc.request("GET", "/api/contexts", params={"entityKey": "1", "entityGroup": "NOTEBOOK"}))
    assert listing["totalHits"] >= 1 and listing["offset"] == 0 and listing["data"][0]["id"] == context_id
    assert ok(tc.request("GET", "/api/contexts", params={"entityGroup": "NOTEBOOK", "jobStatus": "SUCCESSFUL"}))["totalHits"] >= 1
    assert ok(tc.request("GET", "/api/contexts", params={"entityGroup": "NOTEBOOK", "jobStatusList": "FAILED,CANCELLED"}))["totalHits"] == 0
    users = ok(tc.request("GET", "/api/contexts/users", params={"entityGroup": "NOTEBOOK"}))["data"]
    assert [u["loginName"] for u in users] == ["admin"] and "salt" not in users[0]
    missing = tc.request("GET", "/api/contexts/999999")
    assert missing.status_code == 404 and missing.json()["code"] != 0


def test_cancel_ends_the_running_job_and_keeps_the_schedule(tc: RunningTaskCenter) -> None:
    every30 = [{"triggerType": "CRON_JOB", "cronDesc": "*/30 * * * * ?", "cronType": "CRON", "timeZone": "UTC"}]
    plan = make_plan(tc, "PIPELINE", "1", {"pipeline": 1, "seconds": 300}, job_class=SLEEP, items=every30)
    dag_id = f"taskcenter_plan_{plan['id']}"

    # Wait for a scheduled run whose task process is up.
    deadline = time.monotonic() + 90
    running, pid = None, None
    while time.monotonic() < deadline and pid is None:
        contexts = ok(tc.request("GET", "/api/contexts", params={"entityGroup": "PIPELINE", "entityKey": "1", "jobStatus": "RUNNING"}))["data"]
        if contexts:
            running = contexts[0]
            runs = {r["dag_run_id"]: r for r in tc.dag_runs(dag_id)}
            for run_id in runs:
                ti = tc.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/job")
                if ti.status_code == 200 and ti.json().get("pid") and ti.json()["state"] == "running":
                    pid = ti.json()["pid"]
                    break
        time.sleep(1)
    assert running is not None and pid is not None, tc.component_logs()
    assert running["planItem"]["cronDesc"] == "*/30 * * * * ?" and running["planItemId"] == plan["planItems"][0]["id"]
    beat = ok(tc.request("GET", f"/api/contexts/{running['id']}"))["data"]["heartbeatTime"]
    assert beat and DATETIME.match(beat), beat  # the running task's heartbeat ...
    deadline = time.monotonic() + 15
    moved = beat
    while time.monotonic() < deadline and moved == beat:
        time.sleep(1)
        moved = ok(tc.request("GET", f"/api/contexts/{running['id']}"))["data"]["heartbeatTime"]
    assert moved > beat, "heartbeatTime did not move while the task ran"  # ... moves while it runs

    cancelled_at = time.monotonic()
    ok(tc.request("PUT", f"/api/schedules/{plan['id']}/cancel", json={}))
    while time.monotonic() - cancelled_at < 10:
        status = ok(tc.request("GET", f"/api/contexts/{running['id']}"))["data"]["jobStatus"]
        if status == "CANCELLED" and not alive(pid):
            break
        time.sleep(0.5)
    assert ok(tc.request("GET", f"/api/contexts/{running['id']}"))["data"]["jobStatus"] == "CANCELLED"
    assert not alive(pid), f"task process {pid} still alive 10 s after cancel"
    after = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    assert after["enabled"] is True and after["nextStartAt"] and len(after["planItems"]) == 1

    # The schedule goes on: a new scheduled run starts after the cancel.
    deadline = time.monotonic() + 45
    newer = []
    while time.monotonic() < deadline and not newer:
        newer = [c for c in ok(tc.request("GET", "/api/contexts", params={"entityGroup": "PIPELINE"}))["data"] if c["id"] > running["id"]]
        time.sleep(1)
    assert newer, "no scheduled run after the cancel"
    ok(tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "PIPELINE", "entityKey": "1"}))


def test_cancel_with_nothing_running_changes_nothing(tc: RunningTaskCenter) -> None:
    plan = make_plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=SUCCEED)
    before = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    body = ok(tc.request("PUT", f"/api/schedules/{plan['id']}/cancel", json={}))
    assert set(body) >= {"code", "msg", "version"}
    ok(tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "PIPELINE", "entityKey": "1"}))
    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"] == before
    unknown = tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "PIPELINE", "entityKey": "404"})
    assert unknown.status_code == 404 and unknown.json()["code"] != 0


def test_logs_and_results(tc: RunningTaskCenter) -> None:
    make_plan(tc, "NOTEBOOK", "1", {"notebook": 1, "seconds": 6}, job_class=SLEEP)
    started = ok(tc.request("POST", "/api/schedules", json={"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}]}))["data"]
    context_id = started["contextId"]

    # block=false while the job runs: done false, the logs so far.
    deadline = time.monotonic() + 30
    partial: dict[str, Any] = {}
    while time.monotonic() < deadline:
        partial = ok(tc.request("GET", f"/api/contexts/{context_id}/logs", params={"block": "false"}))
        if partial["data"] and any("sleeping" in line for line in partial["data"][0]["logs"]):
            break
        time.sleep(0.5)
    assert partial["done"] is False and partial["data"][0]["subKey"] == "1", partial
    growing = len(partial["data"][0]["logs"])

    # block=true: answers once the run ended, with the complete logs.
    full = ok(tc.request("GET", f"/api/contexts/{context_id}/logs"))
    assert full["done"] is True
    lines = full["data"][0]["logs"]
    assert len(lines) > growing and any("sleeping 6.0 s" in line for line in lines) and "slept 6.0 s" in lines[-1]
    assert not any("::group::" in line or "/logs/dag_id=" in line for line in lines)
    assert ok(tc.request("GET", f"/api/contexts/{context_id}"))["data"]["jobStatus"] == "SUCCESSFUL"

    # A job that produces a table gives it back with its schema.
    make_plan(tc, "NOTEBOOK", "1", {"notebook": 1}, job_class=SUCCEED)
    ran = ok(tc.request("POST", "/api/schedules", json={"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}], "sync": True}))["data"]
    results = ok(tc.request("GET", f"/api/contexts/{ran['contextId']}/results"))
    assert results["done"] is True
    (part,) = results["data"]
    assert part["subKey"] == "1"
    assert part["result"]["schema"] == [{"name": "entity", "title": "entity", "type": "string"}, {"name": "ok", "title": "ok", "type": "bool"}]
    assert part["result"]["data"] == [["NOTEBOOK 1", True]]


def test_a_cancelled_run_now_is_the_plans_latest_status(tc: RunningTaskCenter) -> None:
    plan = make_plan(tc, "DB_BATCH_SYNC", "1", {"syncProj": 1, "seconds": 300}, job_class=SLEEP)
    started = ok(tc.request("POST", "/api/schedules", json={"entityGroup": "DB_BATCH_SYNC", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}]}))["data"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ok(tc.request("GET", f"/api/contexts/{started['contextId']}"))["data"]["jobStatus"] == "RUNNING":
            break
        time.sleep(0.5)
    ok(tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "DB_BATCH_SYNC", "entityKey": "1"}))
    assert ok(tc.request("GET", f"/api/contexts/{started['contextId']}"))["data"]["jobStatus"] == "CANCELLED"
    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]["jobStatus"] == "CANCELLED"
    listed = ok(tc.request("GET", "/api/schedules", params={"jobStatusList": "CANCELLED"}))
    assert [p["id"] for p in listed["data"]] == [plan["id"]]
    assert ok(tc.request("GET", "/api/contexts", params={"jobStatus": "CANCELLED"}))["data"][0]["id"] == started["contextId"]


def test_a_failure_is_in_the_logs_and_retry_times_are_tries(tc: RunningTaskCenter) -> None:
    from tests.integration.jobs import FAIL, FLAKY

    make_plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=FAIL)
    failed = ok(tc.request("POST", "/api/schedules", json={"entityGroup": "PIPELINE", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}], "sync": True}))["data"]
    assert ok(tc.request("GET", f"/api/contexts/{failed['contextId']}"))["data"]["jobStatus"] == "FAILED"
    logs = ok(tc.request("GET", f"/api/contexts/{failed['contextId']}/logs"))["data"][0]["logs"]
    assert any("PIPELINE 1: failing on purpose" in line for line in logs), logs

    body = {"entityGroup": "PIPELINE", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}], "sync": True,
            "execDetail": {"jobClass": FLAKY, "jobParams": {"pipeline": 1, "failures": 2}, "retryTimes": 2}}
    flaky = ok(tc.request("POST", "/api/schedules", json=body))["data"]
    context = ok(tc.request("GET", f"/api/contexts/{flaky['contextId']}"))["data"]
    lines = ok(tc.request("GET", f"/api/contexts/{flaky['contextId']}/logs"))["data"][0]["logs"]
    assert context["jobStatus"] == "SUCCESSFUL", lines
    assert [line for line in lines if line.startswith("*** try")] == ["*** try 1 ***", "*** try 2 ***", "*** try 3 ***"]
    assert any("try 1: failing on purpose" in line for line in lines) and any("try 3: succeeding" in line for line in lines)
    result = ok(tc.request("GET", f"/api/contexts/{flaky['contextId']}/results"))["data"][0]["result"]
    assert result["data"] == [[3]]
