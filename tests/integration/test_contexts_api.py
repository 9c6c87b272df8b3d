"""`/api/contexts` and cancel over HTTP on a running Airflow (spec 1.2.2, 1.2.3, 1.2.11 to 1.2.15)."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import psutil

from tests.integration.harness import RunningTaskCenter, ok, wait_for
from tests.integration.jobs import SLEEP, SUCCEED, TICK

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
NOTEBOOK_JOB = "com.hengshi.nangaparbat.schedulejob.NotebookJob"
SPEC_EXEC_DETAIL = {"jobClass": NOTEBOOK_JOB, "jobParams": {"notebook": 1}, "retryTimes": 1}
EVERY_30_S = {"triggerType": "CRON_JOB", "cronDesc": "*/30 * * * * ?", "cronType": "CRON", "timeZone": "GMT+08:00"}


def alive(pid: int) -> bool:
    """The process runs (a zombie waiting to be reaped by its parent has stopped)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def at(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


def make_plan(
    tc: RunningTaskCenter, group: str, key: str, params: dict[str, Any], *, job_class: str, items: list | None = None
) -> dict[str, Any]:
    body = {
        "entityGroup": group,
        "entityKey": key,
        "planItems": items or [],
        "execDetail": {"jobClass": job_class, "jobParams": params, "retryTimes": 0},
    }
    return ok(tc.request("POST", "/api/schedules", json=body))["data"]


def run_now(tc: RunningTaskCenter, group: str, key: str, *, sync: bool = False) -> dict[str, Any]:
    body = {"entityGroup": group, "entityKey": key, "planItems": [{"triggerType": "ONCE"}], "sync": sync}
    return ok(tc.request("POST", "/api/schedules", json=body))["data"]


def context(tc: RunningTaskCenter, context_id: int) -> dict[str, Any]:
    return ok(tc.request("GET", f"/api/contexts/{context_id}"))["data"]


def assert_context_fields(data: dict[str, Any], *, plan: dict[str, Any], item: dict[str, Any], status: str) -> None:
    """Every field of the context structure (任务执行进度信息结构说明), as the spec's examples show them."""
    assert isinstance(data["id"], int) and data["planId"] == plan["id"]
    assert data["entityGroup"] == plan["entityGroup"] and data["entityKey"] == plan["entityKey"]
    assert data["jobStatus"] == status
    for key in ("createdAt", "scheduleAt", "scheduledAt", "startAt", "stopAt", "heartbeatTime"):
        assert DATETIME.match(data[key] or ""), (key, data[key])
    assert data["scheduleAt"] == data["scheduledAt"]  # the spec's examples and its table name it differently
    assert at(data["createdAt"]) <= at(data["scheduleAt"]) <= at(data["startAt"]) <= at(data["stopAt"])
    assert at(data["startAt"]) <= at(data["heartbeatTime"]) <= at(data["stopAt"])
    assert abs(data["costTime"] - (at(data["stopAt"]) - at(data["startAt"])).total_seconds()) <= 1
    assert data["createdBy"] == 1
    assert data["planItemId"] == item["id"] and data["planItem"] == item
    assert data["jobLogId"] == data["id"] and data["jobResultId"] == data["id"]
    assert data["execDetail"] == plan["execDetail"]
    assert data["title"] == plan["title"] and data["entityCreatedByName"] == "Task Center"
    assert data["path"] == plan["path"]
    for key in ("importType", "diskUsage", "datasetCount"):
        assert data[key] == plan[key], key


def test_context_of_a_scheduled_run_as_in_the_spec(tc: RunningTaskCenter) -> None:
    """1.2.11 / 1.2.12: a run the cron item fired, of the spec's notebook plan, field by field."""
    body = {"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": [EVERY_30_S], "execDetail": SPEC_EXEC_DETAIL}
    plan = ok(tc.request("POST", "/api/schedules", json=body))["data"]
    (item,) = plan["planItems"]

    def ended() -> list[dict[str, Any]]:
        runs = ok(tc.request("GET", "/api/contexts", params={"entityKey": "1", "entityGroup": "NOTEBOOK"}))["data"]
        return [c for c in runs if c["jobStatus"] == "SUCCESSFUL"]

    (done, *_) = wait_for("a scheduled run of the notebook", ended, timeout=90, tc=tc)
    ok(tc.request("POST", f"/api/schedules/{plan['id']}/disable", json={}))
    data = context(tc, done["id"])
    assert data == done
    assert_context_fields(data, plan=plan, item=item, status="SUCCESSFUL")
    assert data["createdBy"] == plan["createdBy"]  # a scheduled run: the plan's creator

    listing = ok(tc.request("GET", "/api/contexts", params={"entityKey": "1", "entityGroup": "NOTEBOOK"}))
    ids = [c["id"] for c in listing["data"]]
    assert listing["totalHits"] == len(ids) and listing["offset"] == 0 and ids == sorted(ids, reverse=True)
    users = ok(tc.request("GET", "/api/contexts/users", params={"entityGroup": "NOTEBOOK"}))["data"]
    assert [u["loginName"] for u in users] == ["admin"] and "salt" not in users[0]
    assert (
        ok(tc.request("GET", "/api/contexts/users", params={"entityGroup": "NOTEBOOK", "jobStatus": "FAILED"}))["data"]
        == []
    )

    # A later write replaces the trigger: the run still names the item that fired it.
    ok(
        tc.request(
            "PUT", f"/api/schedules/{plan['id']}", json={"planItems": [{**EVERY_30_S, "cronDesc": "0 0 9 * * ?"}]}
        )
    )
    again = context(tc, done["id"])
    assert again["planItemId"] == item["id"] and again["planItem"]["cronDesc"] == "*/30 * * * * ?"
    missing = tc.request("GET", "/api/contexts/999999")
    assert missing.status_code == 404 and missing.json()["code"] == 40400


def test_context_of_a_run_now(tc: RunningTaskCenter) -> None:
    plan = make_plan(tc, "NOTEBOOK", "1", {"notebook": 1}, job_class=SUCCEED)
    ran = run_now(tc, "NOTEBOOK", "1", sync=True)
    (once,) = ran["planItems"]
    data = context(tc, ran["contextId"])
    assert_context_fields(data, plan=plan, item={**once}, status="SUCCESSFUL")
    assert data["planItem"]["triggerType"] == "ONCE"


def test_a_dependency_run_names_the_item_whose_upstream_fired(tc: RunningTaskCenter) -> None:
    make_plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=SUCCEED)
    make_plan(tc, "DB_BATCH_SYNC", "1", {"syncProj": 1}, job_class=SUCCEED)
    items = [
        {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}]},
        {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "DB_BATCH_SYNC", "entityKey": "1"}]},
    ]
    downstream = make_plan(tc, "NOTEBOOK", "2", {"notebook": 2}, job_class=SUCCEED, items=items)
    tc.wait_for_dag(f"taskcenter_plan_{downstream['id']}")
    run_now(tc, "DB_BATCH_SYNC", "1", sync=True)

    def followed() -> list[dict[str, Any]]:
        return ok(tc.request("GET", "/api/contexts", params={"entityGroup": "NOTEBOOK", "entityKey": "2"}))["data"]

    (run,) = wait_for("the dependent plan's run", followed, timeout=40, tc=tc)
    assert run["planItemId"] == downstream["planItems"][1]["id"]
    assert run["planItem"]["triggerByJobs"] == [{"entityGroup": "DB_BATCH_SYNC", "entityKey": "1"}]


def test_cancel_ends_the_running_job_and_keeps_the_schedule(tc: RunningTaskCenter) -> None:
    every30 = [{"triggerType": "CRON_JOB", "cronDesc": "*/30 * * * * ?", "cronType": "CRON", "timeZone": "UTC"}]
    plan = make_plan(tc, "PIPELINE", "1", {"pipeline": 1, "seconds": 300}, job_class=SLEEP, items=every30)
    dag_id = f"taskcenter_plan_{plan['id']}"

    def running_task() -> tuple[dict[str, Any], int] | None:
        """A scheduled run whose job task process is up: (context, pid)."""
        contexts = ok(
            tc.request(
                "GET", "/api/contexts", params={"entityGroup": "PIPELINE", "entityKey": "1", "jobStatus": "RUNNING"}
            )
        )["data"]
        for ctx in contexts:
            run_id = next((r["dag_run_id"] for r in tc.dag_runs(dag_id) if r["state"] == "running"), None)
            ti = tc.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/job") if run_id else None
            if ti is not None and ti.status_code == 200 and ti.json().get("pid") and ti.json()["state"] == "running":
                return ctx, ti.json()["pid"]
        return None

    running, pid = wait_for("a running scheduled job", running_task, timeout=90, tc=tc, interval=1)
    assert running["planItem"]["cronDesc"] == "*/30 * * * * ?" and running["planItemId"] == plan["planItems"][0]["id"]
    beat = context(tc, running["id"])["heartbeatTime"]
    assert beat and DATETIME.match(beat), beat  # the running task's heartbeat ...
    moved = wait_for(
        "heartbeatTime moving",
        lambda: (b := context(tc, running["id"])["heartbeatTime"]) > beat and b,
        timeout=15,
        tc=tc,
    )
    assert moved > beat  # ... moves while it runs

    before = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    newest = max(
        c["id"]
        for c in ok(tc.request("GET", "/api/contexts", params={"entityGroup": "PIPELINE", "limit": 100}))["data"]
    )
    cancelled_at = time.monotonic()
    ok(tc.request("PUT", f"/api/schedules/{plan['id']}/cancel", json={}))
    while time.monotonic() - cancelled_at < 10:
        if context(tc, running["id"])["jobStatus"] == "CANCELLED" and not alive(pid):
            break
        time.sleep(0.25)
    assert context(tc, running["id"])["jobStatus"] == "CANCELLED"
    assert not alive(pid), f"task process {pid} still alive 10 s after cancel"
    after = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    assert after["enabled"] is True and after["planItems"] == before["planItems"]
    assert at(after["nextStartAt"]) >= at(before["nextStartAt"])  # the next fire times are kept
    assert tc.request("GET", f"/api/v2/dags/{dag_id}").json()["is_paused"] is False

    # The schedule goes on: a run started after the cancel, and it is not cancelled.
    def next_run() -> list[dict[str, Any]]:
        contexts = ok(tc.request("GET", "/api/contexts", params={"entityGroup": "PIPELINE", "limit": 100}))["data"]
        return [c for c in contexts if c["id"] > newest and c["jobStatus"] in ("PENDING", "RUNNING")]

    later = wait_for("a scheduled run after the cancel", next_run, timeout=45, tc=tc, interval=1)
    assert all(c["planItemId"] == plan["planItems"][0]["id"] for c in later)
    ok(tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "PIPELINE", "entityKey": "1"}))
    wait_for(  # each stays RUNNING until its job's processes are gone (PENDING ones end at once)
        "the later runs CANCELLED",
        lambda: all(context(tc, c["id"])["jobStatus"] == "CANCELLED" for c in later),
        timeout=10,
        tc=tc,
        interval=0.2,
    )


def test_cancel_of_a_pending_run(tc: RunningTaskCenter) -> None:
    """A run queued while its plan's DAG is paused (started from the Airflow UI) is cancelled before it starts."""
    plan = make_plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=SUCCEED)
    dag_id = f"taskcenter_plan_{plan['id']}"
    tc.wait_for_dag(dag_id)
    ok(tc.request("POST", f"/api/schedules/{plan['id']}/disable", json={}))
    triggered = tc.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None})
    assert triggered.status_code == 200, triggered.text
    (pending,) = ok(tc.request("GET", "/api/contexts", params={"entityGroup": "PIPELINE", "entityKey": "1"}))["data"]
    assert pending["jobStatus"] == "PENDING" and pending["startAt"] is None
    ok(tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "PIPELINE", "entityKey": "1"}))
    done = context(tc, pending["id"])
    assert done["jobStatus"] == "CANCELLED" and done["stopAt"]
    ti = tc.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{triggered.json()['dag_run_id']}/taskInstances/job").json()
    assert ti["try_number"] == 0 and ti["state"] == "skipped"  # it never ran
    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]["enabled"] is False  # cancel changes no plan


def test_a_run_cleared_after_its_cancel_is_no_longer_cancelled(tc: RunningTaskCenter) -> None:
    plan = make_plan(tc, "PIPELINE", "1", {"pipeline": 1, "seconds": 3}, job_class=SLEEP)
    started = run_now(tc, "PIPELINE", "1")
    wait_for("the run to start", lambda: context(tc, started["contextId"])["jobStatus"] == "RUNNING", timeout=30, tc=tc)
    ok(tc.request("PUT", f"/api/schedules/{plan['id']}/cancel", json={}))
    wait_for(
        "CANCELLED",
        lambda: context(tc, started["contextId"])["jobStatus"] == "CANCELLED",
        timeout=10,
        tc=tc,
        interval=0.2,
    )
    run_id = next(r["dag_run_id"] for r in tc.dag_runs(f"taskcenter_plan_{plan['id']}"))
    cleared = tc.request(
        "POST", f"/api/v2/dags/taskcenter_plan_{plan['id']}/dagRuns/{run_id}/clear", json={"dry_run": False}
    )
    assert cleared.status_code == 200, cleared.text
    final = wait_for(
        "the re-run to end",
        lambda: (s := context(tc, started["contextId"])["jobStatus"]) in ("SUCCESSFUL", "FAILED") and s,
        timeout=60,
        tc=tc,
    )
    assert final == "SUCCESSFUL"


def test_cancel_with_nothing_running_changes_nothing(tc: RunningTaskCenter) -> None:
    once_in_2099 = {**EVERY_30_S, "cronDesc": "0 0 0 1 1 ? 2099"}
    plan = make_plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=SUCCEED, items=[once_in_2099])
    before = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    assert before["nextStartAt"] == "2099-01-01 00:00:00"
    body = ok(tc.request("PUT", f"/api/schedules/{plan['id']}/cancel", json={}))
    assert set(body) == {"code", "msg", "version"}
    ok(tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "PIPELINE", "entityKey": "1"}))
    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"] == before
    unknown = tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "PIPELINE", "entityKey": "404"})
    assert unknown.status_code == 404 and unknown.json()["code"] == 40400


def test_logs_grow_while_the_job_runs_and_block_waits_for_the_end(tc: RunningTaskCenter) -> None:
    make_plan(tc, "NOTEBOOK", "1", {"notebook": 1, "ticks": 12, "interval": 0.5}, job_class=TICK)
    context_id = run_now(tc, "NOTEBOOK", "1")["contextId"]

    def ticks(body: dict[str, Any]) -> list[str]:
        return [line for part in body["data"] for line in part["logs"] if "tick " in line]

    # block=false while the job runs: done false, and the logs so far, growing.
    snapshots: list[dict[str, Any]] = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        body = ok(tc.request("GET", f"/api/contexts/{context_id}/logs", params={"block": "false"}))
        if body["done"]:
            break
        if ticks(body) and (not snapshots or len(ticks(body)) > len(ticks(snapshots[-1]))):
            snapshots.append(body)
        time.sleep(0.3)
    assert len(snapshots) >= 2, f"logs did not grow while running: {snapshots}"
    assert all(s["done"] is False for s in snapshots)
    assert all(part["subKey"] == "1" for s in snapshots for part in s["data"])
    assert ticks(snapshots[1])[: len(ticks(snapshots[0]))] == ticks(snapshots[0])  # earlier lines stay, in order

    # block=true answers once the run ended, with the complete logs, once.
    full = ok(tc.request("GET", f"/api/contexts/{context_id}/logs"))
    assert full["done"] is True
    assert [line.split(" ", 3)[-1] for line in ticks(full)] == [f"tick {i}/12" for i in range(1, 13)]
    assert not any("::group::" in line or "/logs/dag_id=" in line for part in full["data"] for line in part["logs"])
    assert all(re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \[", line) for line in ticks(full))
    # block=false after the end: the same logs, done true.
    assert ok(tc.request("GET", f"/api/contexts/{context_id}/logs", params={"block": "false"})) == full
    assert context(tc, context_id)["jobStatus"] == "SUCCESSFUL"
    results = ok(tc.request("GET", f"/api/contexts/{context_id}/results", params={"block": "false"}))
    assert results["done"] is True and results["data"] == [
        {"subKey": "1", "result": {"schema": [{"name": "ticks", "title": "ticks", "type": "integer"}], "data": [[12]]}}
    ]


def test_a_job_that_produces_a_table_returns_it_with_its_schema(tc: RunningTaskCenter) -> None:
    make_plan(tc, "NOTEBOOK", "1", {"notebook": 1}, job_class=SUCCEED)
    ran = run_now(tc, "NOTEBOOK", "1", sync=True)
    results = ok(tc.request("GET", f"/api/contexts/{ran['contextId']}/results"))
    assert results["done"] is True
    (part,) = results["data"]
    assert part["subKey"] == "1"
    assert part["result"]["schema"] == [
        {"name": "entity", "title": "entity", "type": "string"},
        {"name": "ok", "title": "ok", "type": "bool"},
    ]
    assert part["result"]["data"] == [["NOTEBOOK 1", True]]


def test_context_filters_and_paging(tc: RunningTaskCenter) -> None:
    make_plan(tc, "NOTEBOOK", "1", {"notebook": 1}, job_class=SUCCEED)
    make_plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=SUCCEED)
    ids = [run_now(tc, "NOTEBOOK", "1", sync=True)["contextId"] for _ in range(3)] + [
        run_now(tc, "PIPELINE", "1", sync=True)["contextId"]
    ]
    newest_first = sorted(ids, reverse=True)
    everything = ok(tc.request("GET", "/api/contexts", params={"limit": 100}))
    assert everything["totalHits"] == 4 and [c["id"] for c in everything["data"]] == newest_first
    page = ok(tc.request("GET", "/api/contexts", params={"offset": 1, "limit": 2}))
    assert page["totalHits"] == 4 and page["offset"] == 1 and [c["id"] for c in page["data"]] == newest_first[1:3]
    assert ok(tc.request("GET", "/api/contexts", params={"q": "NOTEBOOK1"}))["totalHits"] == 3  # the title, any case
    assert ok(tc.request("GET", "/api/contexts", params={"entityGroup": "PIPELINE"}))["totalHits"] == 1
    assert ok(tc.request("GET", "/api/contexts", params={"entityCreatedByList": "1"}))["totalHits"] == 4
    assert ok(tc.request("GET", "/api/contexts", params={"entityCreatedByList": "999"}))["totalHits"] == 0
    assert (
        ok(tc.request("GET", "/api/contexts", params={"jobStatus": "SUCCESSFUL", "jobStatusList": "FAILED"}))[
            "totalHits"
        ]
        == 4
    )
    assert ok(tc.request("GET", "/api/contexts", params={"jobStatusList": "FAILED,CANCELLED"}))["totalHits"] == 0
    bad = tc.request("GET", "/api/contexts", params={"entityGroup": "SPREADSHEET"})
    assert bad.status_code == 400 and bad.json()["code"] == 40001 and "entityGroup" in bad.json()["msg"]
    bad = tc.request("GET", "/api/contexts", params={"jobStatus": "DONE"})
    assert bad.status_code == 400 and "jobStatus" in bad.json()["msg"]


def test_a_cancelled_run_now_is_the_plans_latest_status(tc: RunningTaskCenter) -> None:
    plan = make_plan(tc, "DB_BATCH_SYNC", "1", {"syncProj": 1, "seconds": 300}, job_class=SLEEP)
    started = run_now(tc, "DB_BATCH_SYNC", "1")
    wait_for("the run to start", lambda: context(tc, started["contextId"])["jobStatus"] == "RUNNING", timeout=30, tc=tc)
    ok(tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "DB_BATCH_SYNC", "entityKey": "1"}))
    wait_for(
        "CANCELLED",
        lambda: context(tc, started["contextId"])["jobStatus"] == "CANCELLED",
        timeout=10,
        tc=tc,
        interval=0.2,
    )
    latest = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    assert latest["jobStatus"] == "CANCELLED" and latest["stopAt"] and latest["costTime"] is not None
    listed = ok(tc.request("GET", "/api/schedules", params={"jobStatusList": "CANCELLED"}))
    assert [p["id"] for p in listed["data"]] == [plan["id"]]
    assert (
        ok(tc.request("GET", "/api/contexts", params={"jobStatus": "CANCELLED"}))["data"][0]["id"]
        == started["contextId"]
    )
    assert ok(tc.request("GET", "/api/contexts", params={"jobStatus": "FAILED"}))["totalHits"] == 0


def test_a_failure_is_in_the_logs_and_retry_times_are_tries(tc: RunningTaskCenter) -> None:
    from tests.integration.jobs import FAIL, FLAKY

    make_plan(tc, "PIPELINE", "1", {"pipeline": 1}, job_class=FAIL)
    failed = run_now(tc, "PIPELINE", "1", sync=True)
    assert context(tc, failed["contextId"])["jobStatus"] == "FAILED"
    logs = ok(tc.request("GET", f"/api/contexts/{failed['contextId']}/logs"))["data"][0]["logs"]
    assert any("PIPELINE 1: failing on purpose" in line for line in logs), logs

    body = {
        "entityGroup": "PIPELINE",
        "entityKey": "1",
        "planItems": [{"triggerType": "ONCE"}],
        "sync": True,
        "execDetail": {"jobClass": FLAKY, "jobParams": {"pipeline": 1, "failures": 2}, "retryTimes": 2},
    }
    flaky = ok(tc.request("POST", "/api/schedules", json=body))["data"]
    ctx = context(tc, flaky["contextId"])
    lines = ok(tc.request("GET", f"/api/contexts/{flaky['contextId']}/logs"))["data"][0]["logs"]
    assert ctx["jobStatus"] == "SUCCESSFUL", lines
    assert [line for line in lines if line.startswith("*** try")] == ["*** try 1 ***", "*** try 2 ***", "*** try 3 ***"]
    assert any("try 1: failing on purpose" in line for line in lines) and any(
        "try 3: succeeding" in line for line in lines
    )
    result = ok(tc.request("GET", f"/api/contexts/{flaky['contextId']}/results"))["data"][0]["result"]
    assert result["data"] == [[3]]
