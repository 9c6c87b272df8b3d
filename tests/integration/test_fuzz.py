"""The compat API fuzzed from its own published OpenAPI document (issue 12), on both databases.

Schemathesis generates requests for every operation, valid and invalid, from the document the app
serves at `/api/taskcenter/openapi.json`; each is sent with the admin's token. What must hold for
every one: no 5xx, a status the document lists, a body that matches the documented model, and a
refused `POST /api/schedules` stores nothing. Afterwards every DAG file belongs to a plan and no
plan file has an import error. The seed is fixed (`derandomize`); `TASKCENTER_FUZZ_EXAMPLES` sets
the cases per operation (default 70: about 1,200 per database, 17 operations).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.integration.harness import RunningTaskCenter, ok

OPENAPI_PATH = "/api/taskcenter/openapi.json"
EXAMPLES = int(os.environ.get("TASKCENTER_FUZZ_EXAMPLES", "70"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(tc: RunningTaskCenter) -> Iterator[Any]:
    document = tc.http.get(tc.url(OPENAPI_PATH), timeout=30)
    assert document.status_code == 200, document.text  # published without a token
    yield schemathesis.openapi.from_dict(document.json())
    # After every case (before `tc` deletes the plans): each plan file belongs to a plan, and
    # none failed to import once the parses the fuzzing asked for are done.
    plans = {f"plan_{p['id']}.py" for p in ok(tc.request("GET", "/api/schedules", params={"limit": 1000}))["data"]}
    assert {f.name for f in (tc.home / "plans").rglob("plan_*.py")} <= plans
    time.sleep(3)
    errors = tc.request("GET", "/api/v2/importErrors", params={"limit": 100}).json()["import_errors"]
    assert [e for e in errors if "plan_" in e["filename"]] == [], errors


schema = schemathesis.pytest.from_fixture("api_schema")


def _plan_count(tc: RunningTaskCenter) -> int:
    return ok(tc.request("GET", "/api/schedules", params={"limit": 1}))["totalHits"]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
def test_no_request_gets_a_server_error_or_an_undocumented_answer(case: Any, tc: RunningTaskCenter) -> None:
    if isinstance(case.body, dict) and case.body.get("sync") is True:
        case.body["sync"] = False  # a run-now that waits for its job would wait for a real notebook
    writes_plans = case.method.upper() == "POST" and case.path == "/api/schedules"
    before = _plan_count(tc) if writes_plans else None
    response = case.call(base_url=tc.base_url, session=tc.http, headers={"Authorization": f"Bearer {tc.token}"}, timeout=120)
    case.validate_response(response, checks=CHECKS)
    if writes_plans and response.status_code >= 400:
        assert _plan_count(tc) == before, f"a refused write stored a plan: {response.text[:300]}"
