"""`/api/schedules` over HTTP on a running Airflow: the spec's examples, replayed as written."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.integration.harness import RunningTaskCenter, ok

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
NOTEBOOK_JOB = "com.hengshi.nangaparbat.schedulejob.NotebookJob"

# 1.2.1, first example, exactly as the spec writes it.
CREATE_CRON_PLAN = {
    "entityGroup": "NOTEBOOK",
    "entityKey": "1",
    "planItems": [
        {"triggerType": "CRON_JOB", "cronDesc": "0 15 0 ? * 1", "cronType": "WEEKLY", "timeZone": "GMT+08:00"},
        {"triggerType": "CRON_JOB", "cronDesc": "*/30 * * * * ?", "cronType": "CRON", "timeZone": "GMT+08:00"},
    ],
    "execDetail": {"jobClass": NOTEBOOK_JOB, "jobParams": {"notebook": 1}, "retryTimes": 1},
}
# 1.2.1, second example: run now.
RUN_NOW = {
    "entityGroup": "NOTEBOOK",
    "entityKey": "1",
    "planItems": [{"triggerType": "ONCE"}],
    "execDetail": {"jobClass": NOTEBOOK_JOB, "jobParams": {"notebook": 1}, "retryTimes": 1},
}


def assert_cron_items(items: list[dict[str, Any]], plan_id: int, expected: list[dict[str, Any]]) -> None:
    assert len(items) == len(expected)
    ids = [item["id"] for item in items]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == len(ids)
    for item, want in zip(items, expected):
        assert item["planId"] == plan_id
        for key in ("triggerType", "cronDesc", "cronType", "timeZone"):
            assert item[key] == want[key], (key, item)
        assert DATETIME.match(item["createdAt"]) and DATETIME.match(item["updatedAt"])
        assert item["createdBy"] == 1 and item["updatedBy"] == 1


def assert_plan(data: dict[str, Any], *, enabled: bool) -> None:
    assert isinstance(data["id"], int)
    assert data["entityGroup"] == "NOTEBOOK" and data["entityKey"] == "1"
    assert data["enabled"] is enabled
    assert data["execDetail"] == {"jobClass": NOTEBOOK_JOB, "jobParams": {"notebook": 1}, "retryTimes": 1}
    assert data["title"] == "notebook1"
    assert DATETIME.match(data["createdAt"]) and DATETIME.match(data["updatedAt"])
    assert data["createdBy"] == 1 and data["updatedBy"] == 1
    assert data["entityCreatedBy"] == 1 and data["entityCreatedByName"]
    assert data["execFrequency"] == "WEEKLY"
    assert data["jobStatus"] in ("NONE", "PENDING", "RUNNING", "SUCCESSFUL", "FAILED")
    assert data["contextId"] is None
    assert (data["nextStartAt"] is not None) is enabled
    for key in ("startAt", "stopAt", "costTime", "path", "importType", "diskUsage", "datasetCount", "datasetType"):
        assert key in data


def test_create_get_list_update_enable_disable_delete_as_in_the_spec(tc: RunningTaskCenter) -> None:
    created = ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))["data"]
    plan_id = created["id"]
    assert_plan(created, enabled=True)
    assert_cron_items(created["planItems"], plan_id, CREATE_CRON_PLAN["planItems"])
    # nextStartAt: the next */30 s tick, within 30 s from now
    assert created["nextStartAt"]

    # The plan is a DAG in Airflow, schedulable within 2 s of the answer.
    deadline = time.monotonic() + 2.0
    dag = tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}")
    while dag.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
        dag = tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}")
    assert dag.status_code == 200, "plan DAG not parsed within 2 s"
    dag_body = dag.json()
    assert dag_body["dag_display_name"] == "notebook1"
    assert [t["name"] for t in dag_body["tags"]] and "NOTEBOOK" in [t["name"] for t in dag_body["tags"]]
    assert dag_body["owners"] == ["admin"]
    assert "0 15 0 ? * 1" in dag_body["description"] and dag_body["is_paused"] is False

    # 1.2.8 get
    got = ok(tc.request("GET", f"/api/schedules/{plan_id}"))["data"]
    assert_plan(got, enabled=True)
    assert [i["id"] for i in got["planItems"]] == [i["id"] for i in created["planItems"]]

    # 1.2.9 list, as the spec's example filters
    listing = ok(tc.request("GET", "/api/schedules", params={"entityKey": "1", "entityGroup": "NOTEBOOK"}))
    assert listing["totalHits"] == 1 and listing["offset"] == 0
    assert listing["data"][0]["id"] == plan_id
    assert "totalDiskUsage" in listing and "totalDatasets" in listing

    # 1.2.5 update: disable and send the items back with their ids
    update = {
        "enabled": False,
        "planItems": [
            {"id": created["planItems"][0]["id"], **CREATE_CRON_PLAN["planItems"][0]},
            {"id": created["planItems"][1]["id"], **CREATE_CRON_PLAN["planItems"][1]},
        ],
    }
    updated = ok(tc.request("PUT", f"/api/schedules/{plan_id}", json=update))["data"]
    assert_plan(updated, enabled=False)
    assert [i["id"] for i in updated["planItems"]] == [i["id"] for i in created["planItems"]]
    assert tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}").json()["is_paused"] is True

    # 1.2.6 / 1.2.7 enable and disable: {"code":0,"msg":"success","version":...}
    enabled = tc.request("POST", f"/api/schedules/{plan_id}/enable", json={})
    assert ok(enabled).keys() >= {"code", "msg", "version"}
    assert tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}").json()["is_paused"] is False
    assert ok(tc.request("GET", f"/api/schedules/{plan_id}"))["data"]["enabled"] is True
    ok(tc.request("POST", f"/api/schedules/{plan_id}/disable", json={}))
    assert ok(tc.request("GET", f"/api/schedules/{plan_id}"))["data"]["enabled"] is False
    assert tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}").json()["is_paused"] is True

    # planItems empty removes all triggers
    emptied = ok(tc.request("PUT", f"/api/schedules/{plan_id}", json={"planItems": []}))["data"]
    assert emptied["planItems"] == [] and emptied["execFrequency"] is None

    # 1.2.4 delete
    ok(tc.request("DELETE", f"/api/schedules/{plan_id}"))
    missing = tc.request("GET", f"/api/schedules/{plan_id}")
    assert missing.status_code == 404 and missing.json()["code"] != 0
    assert tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}").status_code == 404


def test_upsert_by_entity_replaces_the_plan(tc: RunningTaskCenter) -> None:
    first = ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))["data"]
    replacement = {**CREATE_CRON_PLAN, "planItems": [CREATE_CRON_PLAN["planItems"][0]], "enabled": False}
    second = ok(tc.request("POST", "/api/schedules", json=replacement))["data"]
    assert second["id"] == first["id"]
    assert [i["cronDesc"] for i in second["planItems"]] == ["0 15 0 ? * 1"]
    assert second["enabled"] is False
    assert ok(tc.request("GET", "/api/schedules"))["totalHits"] == 1


def test_run_now_returns_the_once_item_and_a_context_id(tc: RunningTaskCenter) -> None:
    plan = ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))["data"]
    body = ok(tc.request("POST", "/api/schedules", json=RUN_NOW))["data"]
    assert body["id"] == plan["id"]
    assert len(body["planItems"]) == 1
    once = body["planItems"][0]
    assert once["triggerType"] == "ONCE" and once["planId"] == plan["id"] and isinstance(once["id"], int)
    assert isinstance(body["contextId"], int)
    runs = tc.dag_runs(f"taskcenter_plan_{plan['id']}")
    assert any(r["run_type"] == "manual" for r in runs)
    # the cron triggers are kept
    kept = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    assert [i["cronDesc"] for i in kept["planItems"]] == ["0 15 0 ? * 1", "*/30 * * * * ?"]


def test_run_now_on_a_disabled_plan_is_refused(tc: RunningTaskCenter) -> None:
    ok(tc.request("POST", "/api/schedules", json={**CREATE_CRON_PLAN, "enabled": False}))
    response = tc.request("POST", "/api/schedules", json=RUN_NOW)
    assert response.status_code == 409
    assert response.json()["code"] != 0 and "disabled" in response.json()["msg"]


def test_exec_detail_defaults_from_the_entity(tc: RunningTaskCenter) -> None:
    body = ok(tc.request("POST", "/api/schedules", json={"entityGroup": "DATASET", "entityKey": "1-1", "planItems": []}))["data"]
    assert body["execDetail"] == {"jobClass": "com.hengshi.nangaparbat.schedulejob.DatasetJob", "jobParams": {"app": 1, "dataset": 1}, "retryTimes": 0}
    assert body["title"] == "orders" and body["updateMethod"] == "ALL" and body["datasetType"] == "sql"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CREATE_CRON_PLAN, "entityGroup": "SPREADSHEET"}, "entityGroup"),
        ({**CREATE_CRON_PLAN, "entityKey": "999"}, "entityKey"),
        ({**CREATE_CRON_PLAN, "entityKey": 1}, "entityKey"),
        ({**CREATE_CRON_PLAN, "execDetail": {**CREATE_CRON_PLAN["execDetail"], "jobClass": "com.hengshi.nangaparbat.schedulejob.PipelineJob"}}, "execDetail.jobClass"),
        ({**CREATE_CRON_PLAN, "execDetail": {**CREATE_CRON_PLAN["execDetail"], "retryTimes": "1"}}, "execDetail.retryTimes"),
        ({**CREATE_CRON_PLAN, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 25 * * ?", "timeZone": "UTC"}]}, "planItems[0].cronDesc"),
        ({**CREATE_CRON_PLAN, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 12 * * ?", "timeZone": "UTC+8"}]}, "planItems[0].timeZone"),
        ({**CREATE_CRON_PLAN, "planItems": [{"triggerType": "HOURLY"}]}, "planItems[0].triggerType"),
        ({**CREATE_CRON_PLAN, "planItems": [{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "404"}]}]}, "planItems[0].triggerByJobs[0]"),
        ({**CREATE_CRON_PLAN, "planItems": [{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "NOTEBOOK", "entityKey": "1"}]}]}, "planItems[0].triggerByJobs[0]"),
        ({**CREATE_CRON_PLAN, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 12 * * ?", "color": "red"}]}, "planItems[0].color"),
        ({**CREATE_CRON_PLAN, "owner": "someone"}, "owner"),
        ({**CREATE_CRON_PLAN, "enabled": "yes"}, "enabled"),
    ],
)
def test_invalid_requests_name_the_field_and_store_nothing(tc: RunningTaskCenter, body: dict[str, Any], field: str) -> None:
    response = tc.request("POST", "/api/schedules", json=body)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()
    assert error["code"] != 0
    assert field in error["msg"], error
    assert ok(tc.request("GET", "/api/schedules"))["totalHits"] == 0


def test_dependency_and_cycle(tc: RunningTaskCenter) -> None:
    upstream = ok(tc.request("POST", "/api/schedules", json={"entityGroup": "PIPELINE", "entityKey": "1", "planItems": []}))["data"]
    downstream_body = {
        "entityGroup": "NOTEBOOK",
        "entityKey": "2",
        "planItems": [{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}]}],
    }
    downstream = ok(tc.request("POST", "/api/schedules", json=downstream_body))["data"]
    assert downstream["planItems"][0]["triggerByJobs"] == [{"entityGroup": "PIPELINE", "entityKey": "1"}]
    cycle = tc.request(
        "PUT",
        f"/api/schedules/{upstream['id']}",
        json={"planItems": [{"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "NOTEBOOK", "entityKey": "2"}]}]},
    )
    assert cycle.status_code == 400 and "cycle" in cycle.json()["msg"]
    blocked = tc.request("DELETE", f"/api/schedules/{upstream['id']}")
    assert blocked.status_code == 409 and "NOTEBOOK 2" in blocked.json()["msg"]


def test_users_are_the_entity_creators_without_credentials(tc: RunningTaskCenter) -> None:
    ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))
    users = ok(tc.request("GET", "/api/schedules/users", params={"entityGroup": "NOTEBOOK"}))["data"]
    assert [u["loginName"] for u in users] == ["admin"]
    user = users[0]
    assert user["id"] == 1 and user["enable"] is True and user["roles"]
    assert not {"salt", "password"} & set(user)
    assert ok(tc.request("GET", "/api/schedules/users", params={"entityGroup": "DATASET"}))["data"] == []


def test_concurrent_writes_make_one_plan_and_lose_no_update(tc: RunningTaskCenter) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> Any:
        body = {**CREATE_CRON_PLAN, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": f"0 {i} 9 * * ?", "timeZone": "UTC"}]}
        return tc.http.post(tc.url("/api/schedules"), json=body, headers={"Authorization": f"Bearer {tc.token}"}, timeout=60)

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(create, range(6)))
    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    winners = [r.json()["data"] for r in responses if r.status_code == 200]
    assert winners and len({w["id"] for w in winners}) == 1
    listing = ok(tc.request("GET", "/api/schedules"))
    assert listing["totalHits"] == 1
    final = listing["data"][0]["planItems"]
    assert len(final) == 1 and final[0]["cronDesc"] in {w["planItems"][0]["cronDesc"] for w in winners}


def test_a_deleted_plans_id_is_never_given_to_another_plan(tc: RunningTaskCenter) -> None:
    def create(key: str) -> dict[str, Any]:
        return ok(tc.request("POST", "/api/schedules", json={"entityGroup": "NOTEBOOK", "entityKey": key, "planItems": []}))["data"]

    first, newest = create("1"), create("2")
    ok(tc.request("DELETE", f"/api/schedules/{newest['id']}"))
    assert create("2")["id"] > newest["id"] > first["id"]
    assert tc.request("GET", f"/api/schedules/{newest['id']}").status_code == 404
