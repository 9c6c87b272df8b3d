"""Per-plan permissions on every compat path (issue 12): a role granted one plan's DAG sees and
touches exactly that plan, as Airflow's own API shows that user only their DAG; Viewer and Admin
see every plan."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest

from tests.integration.harness import RunningTaskCenter, ok
from tests.integration.jobs import SLEEP, SUCCEED

GLOBAL_DAGS = "DAGs"  # FAB's resource for every DAG


def _plan(
    tc: RunningTaskCenter, group: str, key: str, job_class: str = SUCCEED, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    job_params = {group.lower(): int(key), **(params or {})}  # the entity's own parameter, as the domain requires
    body = {
        "entityGroup": group,
        "entityKey": key,
        "planItems": [],
        "execDetail": {"jobClass": job_class, "jobParams": job_params, "retryTimes": 0},
    }
    return ok(tc.request("POST", "/api/schedules", json=body))["data"]


def _run_now(
    tc: RunningTaskCenter, group: str, key: str, *, headers: dict[str, str] | None = None, sync: bool = True
) -> dict[str, Any]:
    body = {"entityGroup": group, "entityKey": key, "planItems": [{"triggerType": "ONCE"}], "sync": sync}
    kwargs = {} if headers is None else {"headers": headers}
    return ok(tc.request("POST", "/api/schedules", json=body, **kwargs))["data"]


def _contexts(tc: RunningTaskCenter, plan_id: int) -> list[dict[str, Any]]:
    return [c for c in ok(tc.request("GET", "/api/contexts?limit=100"))["data"] if c["planId"] == plan_id]


def _user_with_role(tc: RunningTaskCenter, role: str) -> dict[str, str]:
    name, password = f"u_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    created = tc.request(
        "POST",
        "/auth/fab/v1/users",
        json={
            "username": name,
            "email": f"{name}@example.invalid",
            "first_name": "U",
            "last_name": "Ser",
            "roles": [{"name": role}],
            "password": password,
        },
    )
    assert created.status_code in (200, 201), created.text
    return {"Authorization": f"Bearer {tc.fetch_token(name, password)}"}


def _one_plan_role(tc: RunningTaskCenter, plan_id: int) -> str:
    """Airflow's User role without its grant of every DAG, plus read, edit and delete of one plan's DAG."""
    user_role = tc.request("GET", "/auth/fab/v1/roles/User").json()
    actions = [a for a in user_role["actions"] if a["resource"]["name"] != GLOBAL_DAGS]
    assert len(actions) < len(user_role["actions"])
    dag = f"DAG:taskcenter_plan_{plan_id}"
    actions += [
        {"action": {"name": action}, "resource": {"name": dag}} for action in ("can_read", "can_edit", "can_delete")
    ]
    name = f"one_plan_{secrets.token_hex(4)}"
    created = tc.request("POST", "/auth/fab/v1/roles", json={"name": name, "actions": actions})
    assert created.status_code in (200, 201), created.text
    return name


def _refused(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == 40300, response.text


def _wait_for_state(tc: RunningTaskCenter, context_id: int, states: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    context = ok(tc.request("GET", f"/api/contexts/{context_id}"))["data"]
    while context["jobStatus"] not in states:
        assert time.monotonic() < deadline, context
        time.sleep(0.5)
        context = ok(tc.request("GET", f"/api/contexts/{context_id}"))["data"]
    return context


@pytest.fixture
def plans(tc: RunningTaskCenter) -> dict[str, Any]:
    """Two plans with a finished run each, and a run of the second one still going."""
    mine, theirs = _plan(tc, "NOTEBOOK", "1"), _plan(tc, "PIPELINE", "1", SLEEP, {"seconds": 0.1})
    my_run, their_run = _run_now(tc, "NOTEBOOK", "1"), _run_now(tc, "PIPELINE", "1")
    _plan(tc, "PIPELINE", "1", SLEEP, {"seconds": 120})
    their_running = _run_now(tc, "PIPELINE", "1", sync=False)
    contexts = {
        "mine": _contexts(tc, mine["id"])[0]["id"],
        "theirs": next(c["id"] for c in _contexts(tc, theirs["id"]) if c["jobStatus"] in ("SUCCESSFUL", "FAILED")),
        "theirs_running": _wait_for_state(tc, max(c["id"] for c in _contexts(tc, theirs["id"])), {"RUNNING"})["id"],
    }
    yield {"mine": mine, "theirs": theirs, "contexts": contexts, "runs": (my_run, their_run, their_running)}
    ok(tc.request("PUT", f"/api/schedules/{theirs['id']}/cancel"))


def test_a_role_granted_one_plan_sees_and_touches_only_that_plan(tc: RunningTaskCenter, plans: dict[str, Any]) -> None:
    mine, theirs, contexts = plans["mine"], plans["theirs"], plans["contexts"]
    me = _user_with_role(tc, _one_plan_role(tc, mine["id"]))

    # Airflow's own API shows this user their DAG only; the compat lists agree, totals included.
    airflow_dags = tc.request("GET", "/api/v2/dags?dag_id_pattern=taskcenter_plan_", headers=me).json()
    assert [d["dag_id"] for d in airflow_dags["dags"]] == [f"taskcenter_plan_{mine['id']}"]
    listed = ok(tc.request("GET", "/api/schedules", headers=me))
    assert [p["id"] for p in listed["data"]] == [mine["id"]] and listed["totalHits"] == 1
    assert ok(tc.request("GET", "/api/schedules?entityGroup=PIPELINE", headers=me))["totalHits"] == 0
    assert ok(tc.request("GET", "/api/schedules?jobStatusList=SUCCESSFUL,RUNNING,FAILED", headers=me))["totalHits"] == 1
    runs = ok(tc.request("GET", "/api/contexts?limit=100", headers=me))
    assert {c["planId"] for c in runs["data"]} == {mine["id"]} and runs["totalHits"] == len(_contexts(tc, mine["id"]))
    assert ok(tc.request("GET", "/api/contexts?jobStatus=RUNNING", headers=me))["totalHits"] == 0
    everyone = {u["id"] for u in ok(tc.request("GET", "/api/schedules/users"))["data"]}
    assert {u["id"] for u in ok(tc.request("GET", "/api/schedules/users", headers=me))["data"]} <= everyone
    assert ok(tc.request("GET", "/api/contexts/users?entityGroup=PIPELINE", headers=me))["data"] == []
    assert ok(tc.request("GET", "/api/schedules/users?entityGroup=PIPELINE", headers=me))["data"] == []

    # Their plan, its runs, logs and results: refused, whatever the path.
    for method, path, body in (
        ("GET", f"/api/schedules/{theirs['id']}", None),
        ("PUT", f"/api/schedules/{theirs['id']}", {"enabled": False}),
        ("POST", f"/api/schedules/{theirs['id']}/disable", None),
        ("POST", f"/api/schedules/{theirs['id']}/enable", None),
        ("PUT", f"/api/schedules/{theirs['id']}/cancel", None),
        ("DELETE", f"/api/schedules/{theirs['id']}", None),
        ("POST", "/api/schedules/cancel", {"entityGroup": "PIPELINE", "entityKey": "1"}),
        ("POST", "/api/schedules", {"entityGroup": "PIPELINE", "entityKey": "1", "planItems": []}),
        (
            "POST",
            "/api/schedules",
            {"entityGroup": "PIPELINE", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}]},
        ),
        ("POST", "/api/schedules", {"entityGroup": "DATASET", "entityKey": "1-1", "planItems": []}),  # a new plan
        ("GET", f"/api/contexts/{contexts['theirs']}", None),
        ("GET", f"/api/contexts/{contexts['theirs']}/logs?block=false", None),
        ("GET", f"/api/contexts/{contexts['theirs']}/results?block=false", None),
        ("GET", "/api/contexts/999999999", None),  # no such context: not told apart from theirs
        ("GET", "/api/schedules/999999999", None),
    ):
        _refused(tc.request(method, path, json=body, headers=me))
    assert _wait_for_state(tc, contexts["theirs_running"], {"RUNNING"})["jobStatus"] == "RUNNING"  # not cancelled
    assert ok(tc.request("GET", f"/api/schedules/{theirs['id']}"))["data"]["enabled"] is True
    assert ok(tc.request("GET", "/api/schedules?entityGroup=DATASET"))["totalHits"] == 0

    # Their own plan: all of it, through the same paths.
    assert ok(tc.request("GET", f"/api/schedules/{mine['id']}", headers=me))["data"]["id"] == mine["id"]
    assert ok(tc.request("GET", f"/api/contexts/{contexts['mine']}", headers=me))["data"]["planId"] == mine["id"]
    assert ok(tc.request("GET", f"/api/contexts/{contexts['mine']}/logs?block=false", headers=me))["data"]
    ok(tc.request("GET", f"/api/contexts/{contexts['mine']}/results?block=false", headers=me))
    ok(tc.request("POST", f"/api/schedules/{mine['id']}/disable", headers=me))
    ok(tc.request("POST", f"/api/schedules/{mine['id']}/enable", headers=me))
    cron = [{"triggerType": "CRON_JOB", "cronDesc": "0 0 3 * * ?", "cronType": "DAILY", "timeZone": "UTC"}]
    assert (
        ok(tc.request("PUT", f"/api/schedules/{mine['id']}", json={"planItems": cron}, headers=me))["data"][
            "planItems"
        ][0]["cronDesc"]
        == "0 0 3 * * ?"
    )
    upserted = ok(
        tc.request(
            "POST", "/api/schedules", json={"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": []}, headers=me
        )
    )
    assert upserted["data"]["id"] == mine["id"] and upserted["data"]["planItems"] == []
    assert _run_now(tc, "NOTEBOOK", "1", headers=me)["jobStatus"] == "SUCCESSFUL"
    ok(tc.request("POST", "/api/schedules/cancel", json={"entityGroup": "NOTEBOOK", "entityKey": "1"}, headers=me))
    ok(tc.request("PUT", f"/api/schedules/{mine['id']}/cancel", headers=me))
    ok(tc.request("DELETE", f"/api/schedules/{mine['id']}", headers=me))
    assert tc.request("GET", f"/api/schedules/{mine['id']}").status_code == 404


@pytest.mark.parametrize("role", ["Viewer", "Admin"])
def test_viewer_and_admin_see_every_plan(tc: RunningTaskCenter, plans: dict[str, Any], role: str) -> None:
    caller = _user_with_role(tc, role)
    ids = {plans["mine"]["id"], plans["theirs"]["id"]}
    listed = ok(tc.request("GET", "/api/schedules", headers=caller))
    assert {p["id"] for p in listed["data"]} == ids and listed["totalHits"] == 2
    runs = ok(tc.request("GET", "/api/contexts?limit=100", headers=caller))
    assert {c["planId"] for c in runs["data"]} == ids and runs["totalHits"] == ok(tc.request("GET", "/api/contexts"))[
        "totalHits"
    ]
    for context_id in plans["contexts"].values():
        ok(tc.request("GET", f"/api/contexts/{context_id}/logs?block=false", headers=caller))
    edit = tc.request("POST", f"/api/schedules/{plans['theirs']['id']}/disable", headers=caller)
    if role == "Viewer":
        _refused(edit)
    else:
        ok(edit)
