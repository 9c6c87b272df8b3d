"""`/api/schedules` over HTTP on a running Airflow: the spec's examples, replayed as written."""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.harness import RunningTaskCenter, ok

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")  # [taskcenter] display_timezone of the embedded default
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
    for item, want in zip(items, expected, strict=False):
        assert item["planId"] == plan_id
        for key in ("triggerType", "cronDesc", "cronType", "timeZone"):
            assert item[key] == want[key], (key, item)
        assert DATETIME.match(item["createdAt"]) and DATETIME.match(item["updatedAt"])
        assert item["createdBy"] == 1 and item["updatedBy"] == 1


def displayed(value: str) -> datetime:
    """A response datetime (`YYYY-MM-DD HH:MM:SS`, display zone) as an aware instant."""
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=DISPLAY_ZONE)


def error(response: Any, *, status: int, code: int, field: str | None = None) -> dict[str, Any]:
    """The error envelope of a refused request: status, code, and the field named in msg."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["data"] is None and body["version"], body
    if field is not None:
        assert field in body["msg"], body
    return body


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
    if enabled:
        assert DATETIME.match(data["nextStartAt"])
    assert data["path"] == "notebooks/notebook1"
    # A notebook is no dataset: the dataset fields are there, and empty.
    for key in (
        "importType",
        "diskUsage",
        "datasetCount",
        "datasetType",
        "isVirtual",
        "updateMethod",
        "updateMethodSwitchable",
    ):
        assert data[key] is None, key
    if data["jobStatus"] == "NONE":
        assert data["startAt"] is None and data["stopAt"] is None and data["costTime"] is None


def test_create_get_list_update_enable_disable_delete_as_in_the_spec(tc: RunningTaskCenter) -> None:
    # 1.2.1 create, the spec's first example as written
    before = datetime.now(timezone.utc)
    created = ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))["data"]
    plan_id = created["id"]
    assert_plan(created, enabled=True)
    assert created["jobStatus"] == "NONE"
    assert_cron_items(created["planItems"], plan_id, CREATE_CRON_PLAN["planItems"])
    item_ids = [i["id"] for i in created["planItems"]]
    # nextStartAt: the next */30 s tick (the weekly item fires later)
    next_start = displayed(created["nextStartAt"])
    assert before < next_start <= before + timedelta(seconds=31) and next_start.second in (0, 30), created[
        "nextStartAt"
    ]
    assert abs(displayed(created["createdAt"]) - before) < timedelta(seconds=5)

    # The plan is a DAG in Airflow, schedulable (its next run computed) within 2 s of the answer.
    answered = time.monotonic()
    dag_body: dict[str, Any] = {}
    while time.monotonic() - answered < 2.0:
        dag = tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}")
        if dag.status_code == 200 and dag.json()["next_dagrun_run_after"]:
            dag_body = dag.json()
            break
        time.sleep(0.05)
    assert dag_body, "plan DAG not schedulable within 2 s"
    assert dag_body["dag_display_name"] == "notebook1"
    assert "NOTEBOOK" in [t["name"] for t in dag_body["tags"]]
    assert dag_body["owners"] == ["admin"]
    assert "0 15 0 ? * 1" in dag_body["description"] and "*/30 * * * * ?" in dag_body["description"]
    assert dag_body["is_paused"] is False

    # 1.2.5 update: disable and send the items back with their ids, as the spec's example does
    update = {
        "enabled": False,
        "planItems": [
            {"id": item_ids[0], **CREATE_CRON_PLAN["planItems"][0]},
            {"id": item_ids[1], **CREATE_CRON_PLAN["planItems"][1]},
        ],
    }
    updated = ok(tc.request("PUT", f"/api/schedules/{plan_id}", json=update))["data"]
    assert_plan(updated, enabled=False)
    assert_cron_items(updated["planItems"], plan_id, CREATE_CRON_PLAN["planItems"])
    assert [i["id"] for i in updated["planItems"]] == item_ids
    assert updated["createdAt"] == created["createdAt"]
    assert tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}").json()["is_paused"] is True

    # 1.2.8 get: the disabled plan, as in the spec's example
    got = ok(tc.request("GET", f"/api/schedules/{plan_id}"))["data"]
    assert_plan(got, enabled=False)
    assert_cron_items(got["planItems"], plan_id, CREATE_CRON_PLAN["planItems"])
    assert got == updated

    # 1.2.9 list, with the spec example's filters
    listing = ok(tc.request("GET", "/api/schedules", params={"entityKey": "1", "entityGroup": "NOTEBOOK"}))
    assert listing["totalHits"] == 1 and listing["offset"] == 0
    assert listing["data"] == [got]
    assert listing["totalDiskUsage"] == 0 and listing["totalDatasets"] == 0  # a notebook has no dataset

    # 1.2.6 / 1.2.7 enable and disable: {"code":0,"msg":"success","version":...}, no data
    enabled = ok(tc.request("POST", f"/api/schedules/{plan_id}/enable", json={}))
    assert set(enabled) == {"code", "msg", "version"}
    assert tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}").json()["is_paused"] is False
    again = ok(tc.request("GET", f"/api/schedules/{plan_id}"))["data"]
    assert again["enabled"] is True and again["nextStartAt"] and again["updatedBy"] == 1
    assert set(ok(tc.request("POST", f"/api/schedules/{plan_id}/disable", json={}))) == {"code", "msg", "version"}
    off = ok(tc.request("GET", f"/api/schedules/{plan_id}"))["data"]
    assert off["enabled"] is False and off["nextStartAt"] is None
    assert tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}").json()["is_paused"] is True

    # planItems empty removes all triggers
    emptied = ok(tc.request("PUT", f"/api/schedules/{plan_id}", json={"planItems": []}))["data"]
    assert emptied["planItems"] == [] and emptied["execFrequency"] is None

    # 1.2.4 delete
    deleted = ok(tc.request("DELETE", f"/api/schedules/{plan_id}"))
    assert set(deleted) == {"code", "msg", "version"}
    error(tc.request("GET", f"/api/schedules/{plan_id}"), status=404, code=40400, field="scheduleId")
    assert tc.request("GET", f"/api/v2/dags/taskcenter_plan_{plan_id}").status_code == 404
    assert not (tc.settings.plans_folder / f"plan_{plan_id}.py").exists()


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
    # 1.2.1, second example: run now; sync, so the answer shows the run's end
    body = ok(tc.request("POST", "/api/schedules", json={**RUN_NOW, "sync": True}))["data"]
    assert body["id"] == plan["id"]
    assert body["entityGroup"] == "NOTEBOOK" and body["entityKey"] == "1" and body["enabled"] is True
    assert body["execDetail"] == RUN_NOW["execDetail"] and body["title"] == "notebook1"
    assert body["createdAt"] == plan["createdAt"] and body["createdBy"] == 1 and body["updatedBy"] == 1
    assert DATETIME.match(body["updatedAt"])
    (once,) = body["planItems"]
    assert once["triggerType"] == "ONCE" and once["planId"] == plan["id"] and isinstance(once["id"], int)
    assert once["id"] not in [i["id"] for i in plan["planItems"]]
    assert not {"cronDesc", "cronType", "timeZone", "triggerByJobs"} & set(once)
    assert isinstance(body["contextId"], int)
    # sync: the answer itself reports the ended run
    assert body["jobStatus"] == "SUCCESSFUL", body
    assert body["startAt"] and body["stopAt"] and body["costTime"] is not None
    context = ok(tc.request("GET", f"/api/contexts/{body['contextId']}"))["data"]
    assert context["jobStatus"] == "SUCCESSFUL" and context["planItemId"] == once["id"]
    runs = tc.dag_runs(f"taskcenter_plan_{plan['id']}")
    assert [r["run_type"] for r in runs if r["run_type"] == "manual"] == ["manual"]
    # the cron triggers are kept, the ONCE item is history; an unchanged execDetail changes nothing
    kept = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    assert [i["cronDesc"] for i in kept["planItems"]] == ["0 15 0 ? * 1", "*/30 * * * * ?"]
    assert kept["updatedAt"] == plan["updatedAt"] and kept["contextId"] is None
    # The plan shows its newest run: the run-now's, unless a */30 s tick has started one since
    # (read after the plan: runs are only added, so a manual newest run was newest then too).
    newest = tc.dag_runs(f"taskcenter_plan_{plan['id']}")[-1]
    if newest["run_type"] == "manual":
        assert kept["jobStatus"] == "SUCCESSFUL", (kept, newest)


def test_run_now_creates_a_missing_plan(tc: RunningTaskCenter) -> None:
    body = ok(
        tc.request(
            "POST",
            "/api/schedules",
            json={"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}], "sync": True},
        )
    )["data"]
    assert body["execDetail"] == {"jobClass": NOTEBOOK_JOB, "jobParams": {"notebook": 1}, "retryTimes": 0}
    assert body["jobStatus"] == "SUCCESSFUL" and isinstance(body["contextId"], int)
    plan = ok(tc.request("GET", f"/api/schedules/{body['id']}"))["data"]
    assert plan["planItems"] == [] and plan["enabled"] is True and plan["jobStatus"] == "SUCCESSFUL"


def test_run_now_on_a_disabled_plan_is_refused(tc: RunningTaskCenter) -> None:
    plan = ok(tc.request("POST", "/api/schedules", json={**CREATE_CRON_PLAN, "enabled": False}))["data"]
    body = error(tc.request("POST", "/api/schedules", json=RUN_NOW), status=409, code=40901)
    assert "disabled" in body["msg"]
    assert tc.dag_runs(f"taskcenter_plan_{plan['id']}") == []


def test_a_pause_in_the_airflow_ui_disables_the_plan(tc: RunningTaskCenter) -> None:
    plan = ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))["data"]
    dag_id = f"taskcenter_plan_{plan['id']}"
    tc.wait_for_dag(dag_id)
    assert tc.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": True}).status_code == 200
    paused = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    assert paused["enabled"] is False and paused["nextStartAt"] is None
    error(tc.request("POST", "/api/schedules", json=RUN_NOW), status=409, code=40901)
    # A write that does not say `enabled` keeps the plan as the UI left it.
    ok(tc.request("PUT", f"/api/schedules/{plan['id']}", json={"planItems": [CREATE_CRON_PLAN["planItems"][0]]}))
    assert tc.request("GET", f"/api/v2/dags/{dag_id}").json()["is_paused"] is True
    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]["enabled"] is False
    assert tc.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False}).status_code == 200
    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]["enabled"] is True


def test_exec_detail_defaults_from_the_entity(tc: RunningTaskCenter) -> None:
    body = ok(
        tc.request("POST", "/api/schedules", json={"entityGroup": "DATASET", "entityKey": "1-1", "planItems": []})
    )["data"]
    assert body["execDetail"] == {
        "jobClass": "com.hengshi.nangaparbat.schedulejob.DatasetJob",
        "jobParams": {"app": 1, "dataset": 1},
        "retryTimes": 0,
    }
    assert body["title"] == "orders" and body["updateMethod"] == "ALL" and body["datasetType"] == "sql"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CREATE_CRON_PLAN, "entityGroup": "SPREADSHEET"}, "entityGroup"),
        ({**CREATE_CRON_PLAN, "entityKey": "999"}, "entityKey"),
        ({**CREATE_CRON_PLAN, "entityKey": 1}, "entityKey"),
        (
            {
                **CREATE_CRON_PLAN,
                "execDetail": {
                    **CREATE_CRON_PLAN["execDetail"],
                    "jobClass": "com.hengshi.nangaparbat.schedulejob.PipelineJob",
                },
            },
            "execDetail.jobClass",
        ),
        (
            {**CREATE_CRON_PLAN, "execDetail": {**CREATE_CRON_PLAN["execDetail"], "retryTimes": "1"}},
            "execDetail.retryTimes",
        ),
        (
            {
                **CREATE_CRON_PLAN,
                "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 25 * * ?", "timeZone": "UTC"}],
            },
            "planItems[0].cronDesc",
        ),
        (
            {
                **CREATE_CRON_PLAN,
                "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 12 * * ?", "timeZone": "UTC+8"}],
            },
            "planItems[0].timeZone",
        ),
        ({**CREATE_CRON_PLAN, "planItems": [{"triggerType": "HOURLY"}]}, "planItems[0].triggerType"),
        (
            {
                **CREATE_CRON_PLAN,
                "planItems": [
                    {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "404"}]}
                ],
            },
            "planItems[0].triggerByJobs[0]",
        ),
        (
            {
                **CREATE_CRON_PLAN,
                "planItems": [
                    {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "NOTEBOOK", "entityKey": "1"}]}
                ],
            },
            "planItems[0].triggerByJobs[0]",
        ),
        (
            {
                **CREATE_CRON_PLAN,
                "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 12 * * ?", "color": "red"}],
            },
            "planItems[0].color",
        ),
        ({**CREATE_CRON_PLAN, "owner": "someone"}, "owner"),
        ({**CREATE_CRON_PLAN, "enabled": "yes"}, "enabled"),
        (
            {**CREATE_CRON_PLAN, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 9 31 2 ?"}]},
            "planItems[0].cronDesc",
        ),
        (
            {**CREATE_CRON_PLAN, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ? 2020"}]},
            "planItems[0].cronDesc",
        ),
        (
            {**CREATE_CRON_PLAN, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ?", "timeZone": ""}]},
            "planItems[0].timeZone",
        ),
        (
            {
                **CREATE_CRON_PLAN,
                "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ?", "cronType": "YEARLY"}],
            },
            "planItems[0].cronType",
        ),
        ({**CREATE_CRON_PLAN, "planItems": [{"triggerType": "CRON_JOB", "timeZone": "UTC"}]}, "planItems[0].cronDesc"),
        (
            {**CREATE_CRON_PLAN, "planItems": [{"triggerType": "DEPENDENCY", "triggerByJobs": []}]},
            "planItems[0].triggerByJobs",
        ),
        (
            {**CREATE_CRON_PLAN, "planItems": [{"triggerType": "ONCE"}, CREATE_CRON_PLAN["planItems"][0]]},
            "planItems[0].triggerType",
        ),
        ({**CREATE_CRON_PLAN, "planItems": [{"id": 12345, **CREATE_CRON_PLAN["planItems"][0]}]}, "planItems[0].id"),
    ],
)
def test_invalid_requests_name_the_field_and_store_nothing(
    tc: RunningTaskCenter, body: dict[str, Any], field: str
) -> None:
    response = tc.request("POST", "/api/schedules", json=body)
    code = 40002 if field in ("owner", "planItems[0].color") else 40001
    error(response, status=400, code=code, field=field)
    assert ok(tc.request("GET", "/api/schedules"))["totalHits"] == 0
    assert list(tc.settings.plans_folder.glob("plan_*.py")) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 25 * * ?"}]}, "planItems[0].cronDesc"),
        ({"planItems": [{"triggerType": "ONCE"}]}, "planItems[0].triggerType"),
        ({"planItems": [{"id": 999999, "triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ?"}]}, "planItems[0].id"),
        ({"planItems": [], "execDetail": {"jobClass": NOTEBOOK_JOB}}, "execDetail"),
        ({"enabled": 1}, "enabled"),
    ],
)
def test_an_invalid_update_changes_nothing(tc: RunningTaskCenter, body: dict[str, Any], field: str) -> None:
    plan = ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))["data"]
    dag_file = tc.settings.plans_folder / f"plan_{plan['id']}.py"
    source = dag_file.read_text()
    response = tc.request("PUT", f"/api/schedules/{plan['id']}", json=body)
    error(response, status=400, code=40002 if field == "execDetail" else 40001, field=field)
    after = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]
    assert (
        after["planItems"] == plan["planItems"] and after["updatedAt"] == plan["updatedAt"] and after["enabled"] is True
    )
    assert dag_file.read_text() == source


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/schedules/999999"),
        ("PUT", "/api/schedules/999999"),
        ("POST", "/api/schedules/999999/enable"),
        ("POST", "/api/schedules/999999/disable"),
        ("DELETE", "/api/schedules/999999"),
        ("PUT", "/api/schedules/999999/cancel"),
    ],
)
def test_an_unknown_plan_id_is_404(tc: RunningTaskCenter, method: str, path: str) -> None:
    body = {"planItems": []} if method == "PUT" and not path.endswith("cancel") else {}
    error(tc.request(method, path, json=body), status=404, code=40400, field="scheduleId")


def test_a_non_integer_plan_id_names_the_path_parameter(tc: RunningTaskCenter) -> None:
    error(tc.request("GET", "/api/schedules/abc"), status=400, code=40001, field="scheduleId")


def test_dependency_and_cycle(tc: RunningTaskCenter) -> None:
    upstream = ok(
        tc.request("POST", "/api/schedules", json={"entityGroup": "PIPELINE", "entityKey": "1", "planItems": []})
    )["data"]
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
        json={
            "planItems": [
                {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "NOTEBOOK", "entityKey": "2"}]}
            ]
        },
    )
    assert "cycle" in error(cycle, status=400, code=40001, field="planItems")["msg"]
    blocked = error(tc.request("DELETE", f"/api/schedules/{upstream['id']}"), status=409, code=40900)
    assert "NOTEBOOK 2" in blocked["msg"]


def test_concurrent_dependency_writes_never_store_a_cycle(tc: RunningTaskCenter) -> None:
    from concurrent.futures import ThreadPoolExecutor

    a, b = ("PIPELINE", "1"), ("NOTEBOOK", "2")
    for group, key in (a, b):
        ok(tc.request("POST", "/api/schedules", json={"entityGroup": group, "entityKey": key, "planItems": []}))

    def depend(owner: tuple[str, str], upstream: tuple[str, str]) -> Any:
        body = {
            "entityGroup": owner[0],
            "entityKey": owner[1],
            "planItems": [
                {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": upstream[0], "entityKey": upstream[1]}]}
            ],
        }
        return tc.http.post(
            tc.url("/api/schedules"), json=body, headers={"Authorization": f"Bearer {tc.token}"}, timeout=60
        )

    for _ in range(3):
        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.map(lambda pair: depend(*pair), [(a, b), (b, a)])
        assert sorted([first.status_code, second.status_code]) in ([200, 400], [200, 409], [400, 409], [409, 409]), (
            first.text,
            second.text,
        )
        plans = ok(tc.request("GET", "/api/schedules"))["data"]
        with_dependencies = [p for p in plans if any(i["triggerType"] == "DEPENDENCY" for i in p["planItems"])]
        assert len(with_dependencies) <= 1, plans
        for plan in plans:  # start over: no dependencies
            ok(tc.request("PUT", f"/api/schedules/{plan['id']}", json={"planItems": []}))


def test_users_are_the_entity_creators_without_credentials(tc: RunningTaskCenter) -> None:
    assert ok(tc.request("GET", "/api/schedules/users", params={"entityGroup": "DATASET"}))["data"] == []
    ok(tc.request("POST", "/api/schedules", json={"entityGroup": "DATASET", "entityKey": "1-1", "planItems": []}))
    # 1.2.10, the spec's example query
    users = ok(tc.request("GET", "/api/schedules/users", params={"entityGroup": "DATASET"}))["data"]
    assert [u["loginName"] for u in users] == ["admin"]
    user = users[0]
    assert user["id"] == 1 and user["name"] == "Task Center" and user["email"] == "admin@taskcenter.invalid"
    assert (
        user["enable"] is True and user["userType"] == "internal" and user["description"] == "" and user["avatar"] == ""
    )
    assert user["config"]["sys.id"] == {"source": "SYSTEM_DEFINED", "value": 1, "type": "number"}
    assert (
        user["config"]["sys.loginName"]["value"] == "admin"
        and user["config"]["sys.email"]["value"] == "admin@taskcenter.invalid"
    )
    assert user["config"]["sys.mobile"] == {"source": "SYSTEM_DEFINED", "type": "string"}
    assert user["options"] == {} and user["organizations"] == []
    assert [r["name"] for r in user["roles"]] == ["Admin"] and isinstance(user["roles"][0]["id"], int)
    assert not {"salt", "password", "passwordHash"} & set(user)
    assert ok(tc.request("GET", "/api/schedules/users", params={"entityGroup": "NOTEBOOK"}))["data"] == []


def test_list_filters_paging_and_totals(tc: RunningTaskCenter) -> None:
    for group, key in (("DATASET", "1-1"), ("DATASET", "1-2"), ("APP_REFRESH", "1"), ("NOTEBOOK", "1")):
        ok(tc.request("POST", "/api/schedules", json={"entityGroup": group, "entityKey": key, "planItems": []}))
    everything = ok(tc.request("GET", "/api/schedules", params={"limit": 100}))
    assert everything["totalHits"] == 4 and [p["entityKey"] for p in everything["data"]] == ["1-1", "1-2", "1", "1"]
    by_key = {(p["entityGroup"], p["entityKey"]): p for p in everything["data"]}
    # An app's plan and its datasets' plans: each dataset is counted once.
    sizes = by_key[("DATASET", "1-1")]["diskUsage"] or 0, by_key[("DATASET", "1-2")]["diskUsage"] or 0
    assert everything["totalDatasets"] == 2 and everything["totalDiskUsage"] == sum(sizes)
    assert by_key[("APP_REFRESH", "1")]["datasetCount"] in (None, 1, 2)  # datasets refreshed so far

    page = ok(tc.request("GET", "/api/schedules", params={"offset": 1, "limit": 2}))
    assert page["totalHits"] == 4 and page["offset"] == 1
    assert [p["id"] for p in page["data"]] == [p["id"] for p in everything["data"][1:3]]
    datasets = ok(tc.request("GET", "/api/schedules", params={"entityGroup": "DATASET"}))
    assert datasets["totalHits"] == 2 and datasets["totalDatasets"] == 2 and datasets["totalDiskUsage"] == sum(sizes)

    # q: the title or the entity key, case-insensitive, and literally (% and _ are no wildcards)
    assert [p["title"] for p in ok(tc.request("GET", "/api/schedules", params={"q": "ORDER"}))["data"]] == ["orders"]
    assert [p["entityKey"] for p in ok(tc.request("GET", "/api/schedules", params={"q": "1-2"}))["data"]] == ["1-2"]
    assert ok(tc.request("GET", "/api/schedules", params={"q": "%"}))["totalHits"] == 0
    assert ok(tc.request("GET", "/api/schedules", params={"q": "_"}))["totalHits"] == 0

    assert ok(tc.request("GET", "/api/schedules", params={"entityCreatedByList": "1,2"}))["totalHits"] == 4
    assert ok(tc.request("GET", "/api/schedules", params={"entityCreatedByList": "999"}))["totalHits"] == 0
    assert ok(tc.request("GET", "/api/schedules", params={"jobStatusList": "NONE"}))["totalHits"] == 4
    assert ok(tc.request("GET", "/api/schedules", params={"jobStatusList": "SUCCESSFUL,FAILED"}))["totalHits"] == 0

    error(
        tc.request("GET", "/api/schedules", params={"entityGroup": "SPREADSHEET"}),
        status=400,
        code=40001,
        field="entityGroup",
    )
    error(
        tc.request("GET", "/api/schedules", params={"jobStatusList": "DONE"}),
        status=400,
        code=40001,
        field="jobStatusList",
    )
    error(
        tc.request("GET", "/api/schedules", params={"entityCreatedByList": "admin"}),
        status=400,
        code=40001,
        field="entityCreatedByList",
    )
    error(tc.request("GET", "/api/schedules", params={"limit": 0}), status=400, code=40001, field="limit")
    error(tc.request("GET", "/api/schedules", params={"offset": -1}), status=400, code=40001, field="offset")


def test_concurrent_writes_make_one_plan_and_lose_no_update(tc: RunningTaskCenter) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> Any:
        body = {
            **CREATE_CRON_PLAN,
            "planItems": [{"triggerType": "CRON_JOB", "cronDesc": f"0 {i} 9 * * ?", "timeZone": "UTC"}],
        }
        return tc.http.post(
            tc.url("/api/schedules"), json=body, headers={"Authorization": f"Bearer {tc.token}"}, timeout=60
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(create, range(6)))
    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    winners = [r.json()["data"] for r in responses if r.status_code == 200]
    assert winners and len({w["id"] for w in winners}) == 1
    listing = ok(tc.request("GET", "/api/schedules"))
    assert listing["totalHits"] == 1
    final = listing["data"][0]["planItems"]
    assert len(final) == 1 and final[0]["cronDesc"] in {w["planItems"][0]["cronDesc"] for w in winners}


def test_concurrent_updates_lose_no_update(tc: RunningTaskCenter) -> None:
    from concurrent.futures import ThreadPoolExecutor

    plan = ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))["data"]

    def update(i: int) -> Any:
        body = {"planItems": [{"triggerType": "CRON_JOB", "cronDesc": f"0 {i} 8 * * ?", "timeZone": "UTC"}]}
        return tc.http.put(
            tc.url(f"/api/schedules/{plan['id']}"),
            json=body,
            headers={"Authorization": f"Bearer {tc.token}"},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(update, range(4)))
    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    assert all(r.json()["code"] == 40900 for r in responses if r.status_code == 409)
    winners = {r.json()["data"]["planItems"][0]["cronDesc"] for r in responses if r.status_code == 200}
    final = ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]["planItems"]
    assert len(final) == 1 and final[0]["cronDesc"] in winners


def test_permissions_follow_airflow_roles(tc: RunningTaskCenter) -> None:
    """A Viewer reads plans, contexts and logs, and may not change, run, cancel or delete anything."""
    plan = ok(tc.request("POST", "/api/schedules", json=CREATE_CRON_PLAN))["data"]
    name, password = f"viewer_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    created = tc.request(
        "POST",
        "/auth/fab/v1/users",
        json={
            "username": name,
            "email": f"{name}@example.invalid",
            "first_name": "View",
            "last_name": "Er",
            "roles": [{"name": "Viewer"}],
            "password": password,
        },
    )
    assert created.status_code in (200, 201), created.text
    viewer = {"Authorization": f"Bearer {tc.fetch_token(name, password)}"}

    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}", headers=viewer))["data"]["id"] == plan["id"]
    assert ok(tc.request("GET", "/api/schedules", headers=viewer))["totalHits"] == 1
    assert ok(tc.request("GET", "/api/contexts", headers=viewer))["totalHits"] == 0
    for method, path, body in (
        ("POST", "/api/schedules", CREATE_CRON_PLAN),
        ("POST", "/api/schedules", RUN_NOW),
        ("PUT", f"/api/schedules/{plan['id']}", {"enabled": False}),
        ("POST", f"/api/schedules/{plan['id']}/disable", {}),
        ("PUT", f"/api/schedules/{plan['id']}/cancel", {}),
        ("POST", "/api/schedules/cancel", {"entityGroup": "NOTEBOOK", "entityKey": "1"}),
        ("DELETE", f"/api/schedules/{plan['id']}", None),
    ):
        refused = error(tc.request(method, path, json=body, headers=viewer), status=403, code=40300)
        assert name in refused["msg"], refused
    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]["enabled"] is True


def test_a_deleted_plans_id_is_never_given_to_another_plan(tc: RunningTaskCenter) -> None:
    def create(key: str) -> dict[str, Any]:
        return ok(
            tc.request("POST", "/api/schedules", json={"entityGroup": "NOTEBOOK", "entityKey": key, "planItems": []})
        )["data"]

    first, newest = create("1"), create("2")
    ok(tc.request("DELETE", f"/api/schedules/{newest['id']}"))
    assert create("2")["id"] > newest["id"] > first["id"]
    assert tc.request("GET", f"/api/schedules/{newest['id']}").status_code == 404
