"""Hostile input on every compat path (issue 12): 4xx with a code and a field, never a 5xx; a
refused request stores nothing, leaves no DAG file and no import error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.harness import RunningTaskCenter, ok

NOTEBOOK = {"entityGroup": "NOTEBOOK", "entityKey": "1"}
HUGE = str(2**63)


def _plan_files(tc: RunningTaskCenter) -> set[str]:
    return {p.name for p in (tc.home / "plans").rglob("plan_*.py")}


def _import_errors(tc: RunningTaskCenter) -> list[dict[str, Any]]:
    return tc.request("GET", "/api/v2/importErrors?limit=100").json()["import_errors"]


def _refused(response: Any, *, status: int = 400, code: int | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert body["data"] is None and (code is None or body["code"] == code), body
    for internal in ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "IntegrityError", "DataError"):
        assert internal not in response.text, response.text[:500]
    return body


def _post_raw(tc: RunningTaskCenter, path: str, text: str | bytes) -> Any:
    headers = {"Authorization": f"Bearer {tc.token}", "Content-Type": "application/json"}
    return tc.http.post(tc.url(path), data=text, headers=headers, timeout=60)


@pytest.mark.parametrize(
    "template, status, code",
    [(HUGE, 404, 40400), ("9" * 40, 404, 40400)]
    + [(t, 400, 40001) for t in ("²", "{id}.0", "+{id}", "%20{id}", "0{id}", "-{id}", "{id}e0", "0x{id}", "abc")],
)
def test_an_id_that_is_not_a_plain_int64_names_nothing(
    tc: RunningTaskCenter, template: str, status: int, code: int
) -> None:
    plan = ok(tc.request("POST", "/api/schedules", json={**NOTEBOOK, "planItems": []}))["data"]
    raw_id = template.format(id=plan["id"])  # read loosely, most of these would name the plan
    for method, path in (
        ("GET", f"/api/schedules/{raw_id}"),
        ("PUT", f"/api/schedules/{raw_id}"),
        ("DELETE", f"/api/schedules/{raw_id}"),
        ("POST", f"/api/schedules/{raw_id}/enable"),
        ("POST", f"/api/schedules/{raw_id}/disable"),
        ("PUT", f"/api/schedules/{raw_id}/cancel"),
        ("GET", f"/api/contexts/{raw_id}"),
        ("GET", f"/api/contexts/{raw_id}/logs?block=false"),
        ("GET", f"/api/contexts/{raw_id}/results?block=false"),
    ):
        body = {"enabled": False} if method == "PUT" and not path.endswith("cancel") else None
        assert _refused(tc.request(method, path, json=body), status=status, code=code)["field"] in (
            "scheduleId",
            "contextId",
        )
    assert ok(tc.request("GET", f"/api/schedules/{plan['id']}"))["data"]["enabled"] is True


@pytest.mark.parametrize(
    "query",
    [
        f"offset={HUGE}",
        "offset=-1",
        "offset=1.5",
        "limit=0",
        f"limit={HUGE}",
        "limit=abc",
        f"entityCreatedByList={HUGE}",
        "entityCreatedByList=1,²",
        "entityKey=a%00b",
        "q=%00",
        "q=" + "x" * 300,
        "entityGroup=" + "G" * 40,
        "jobStatusList=DONE",
    ],
)
def test_list_parameters_out_of_range_are_400(tc: RunningTaskCenter, query: str) -> None:
    paged = query.startswith(("offset", "limit"))  # the /users endpoints take no page
    for path in (
        ("/api/schedules", "/api/contexts")
        if paged
        else ("/api/schedules", "/api/schedules/users", "/api/contexts", "/api/contexts/users")
    ):
        _refused(tc.request("GET", f"{path}?{query}"), status=400)


JOB_PARAMS_REFUSED = {
    "NaN": '{"notebook": 1, "x": NaN}',
    "Infinity": '{"notebook": 1, "x": Infinity}',
    "-Infinity": '{"notebook": 1, "x": -Infinity}',
    "1e400": '{"notebook": 1, "x": 1e400}',
    "deep": '{"notebook": 1, "x": ' + "[" * 200 + "]" * 200 + "}",
    "very deep": '{"notebook": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "surrogate": '{"notebook": 1, "x": "\\ud800"}',
    "NUL in a key": '{"notebook": 1, "\\u0000": 1}',
    "int past int64": '{"notebook": 1, "x": ' + "9" * 30 + "}",
    "too big": json.dumps({"notebook": 1, "x": "y" * 70_000}),
}


@pytest.mark.parametrize("case", sorted(JOB_PARAMS_REFUSED))
def test_job_params_that_no_dag_file_or_database_can_hold_are_refused_and_nothing_is_stored(
    tc: RunningTaskCenter, case: str
) -> None:
    files, errors = _plan_files(tc), len(_import_errors(tc))
    body = (
        '{"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": [], "execDetail": {"jobParams": '
        + JOB_PARAMS_REFUSED[case]
        + "}}"
    )
    refused = _refused(_post_raw(tc, "/api/schedules", body), status=400)
    assert refused["code"] in (40000, 40001)
    assert ok(tc.request("GET", "/api/schedules"))["totalHits"] == 0
    assert _plan_files(tc) == files and len(_import_errors(tc)) == errors
    assert ok(tc.request("GET", "/api/schedules"))["data"] == []  # the list still answers


@pytest.mark.parametrize(
    "body, field",
    [
        (
            {**NOTEBOOK, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 0 * * ? " + "*" * 300}]},
            "planItems[0].cronDesc",
        ),
        (
            {**NOTEBOOK, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 0 * * ?", "timeZone": "Z" * 100}]},
            "planItems[0].timeZone",
        ),
        (
            {**NOTEBOOK, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 0 * * ?\u0000"}]},
            "planItems[0].cronDesc",
        ),
        ({"entityGroup": "NOTEBOOK", "entityKey": "k" * 200, "planItems": []}, "entityKey"),
        ({"entityGroup": "NOTEBOOK" * 10, "entityKey": "1", "planItems": []}, "entityGroup"),
        (
            {**NOTEBOOK, "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 0 * * ?", "id": 2**63}]},
            "planItems[0].id",
        ),
        (
            {
                **NOTEBOOK,
                "planItems": [{"triggerType": "CRON_JOB", "cronDesc": f"{s} 0 0 * * ?"} for s in range(60)] * 2,
            },
            "planItems",
        ),
        ({**NOTEBOOK, "execDetail": {"retryTimes": 2**70}}, "execDetail.retryTimes"),
        ({**NOTEBOOK, "execDetail": {"jobClass": "c" * 300}}, "execDetail.jobClass"),
    ],
)
def test_strings_and_numbers_beyond_what_both_databases_hold_are_400(
    tc: RunningTaskCenter, body: dict[str, Any], field: str
) -> None:
    refused = _refused(tc.request("POST", "/api/schedules", json=body), status=400, code=40001)
    assert refused["field"] == field, refused
    assert ok(tc.request("GET", "/api/schedules"))["totalHits"] == 0


def test_malformed_json_and_oversized_bodies(tc: RunningTaskCenter) -> None:
    for text in ("{", "[1,", "nul", b"\xff\xfe{}", '{"entityGroup": "NOTEBOOK", "entityKey": "1",}'):
        _refused(_post_raw(tc, "/api/schedules", text), status=400, code=40000)
    _refused(_post_raw(tc, "/api/schedules", b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'), status=413, code=40000)
    assert ok(tc.request("GET", "/api/schedules"))["totalHits"] == 0


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PATCH", "/api/schedules/1", "DELETE, GET, PUT"),
        ("DELETE", "/api/schedules", "GET, POST"),
        ("GET", "/api/schedules/1/enable", "POST"),
        ("POST", "/api/contexts", "GET"),
        ("DELETE", "/api/contexts/1/logs", "GET"),
    ],
)
def test_a_known_path_with_another_method_is_405(tc: RunningTaskCenter, method: str, path: str, allowed: str) -> None:
    response = tc.request(method, path)
    _refused(response, status=405, code=40500)
    assert response.headers["Allow"] == allowed


def test_deleting_a_plan_clears_its_import_errors_at_once(tc: RunningTaskCenter) -> None:
    """Also when its file never imported: then it has no DAG row, whose deletion clears them in
    Airflow. (Such an error is written here as the dag-processor would write it.)"""
    import sqlalchemy as sa
    from airflow.models.errors import ParseImportError

    plan = ok(tc.request("POST", "/api/schedules", json={**NOTEBOOK, "planItems": []}))["data"]
    dag_id = f"taskcenter_plan_{plan['id']}"
    tc.wait_for_dag(dag_id)
    (path,) = (tc.home / "plans").rglob(f"plan_{plan['id']}.py")
    relative = str(path.relative_to(tc.home / "plans"))
    assert tc.request("DELETE", f"/api/v2/dags/{dag_id}").status_code == 204
    engine = sa.create_engine(tc.settings.sql_alchemy_conn)
    try:
        with engine.begin() as db:
            db.execute(
                sa.insert(ParseImportError.__table__).values(
                    filename=relative,
                    bundle_name="taskcenter-plans",
                    timestamp=sa.func.now(),
                    stacktrace="RuntimeError: broken",
                )
            )
    finally:
        engine.dispose()
    assert any(e["filename"] == relative for e in _import_errors(tc))
    ok(tc.request("DELETE", f"/api/schedules/{plan['id']}"))
    assert not any(e["filename"] == relative for e in _import_errors(tc))
    assert not path.exists()
