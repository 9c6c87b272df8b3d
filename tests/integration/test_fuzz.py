"""The compat API fuzzed from its own published OpenAPI document (issue 12), on both databases.

Schemathesis generates requests for every operation of the document the app serves at
`/api/taskcenter/openapi.json`, valid ones and invalid ones, each sent with the admin's token. What
must hold for every one: no 5xx, a status the document lists, a body that matches the documented
model, and a refused `POST /api/schedules` stores nothing. Afterwards every plan file belongs to a
plan and none has an import error. Hypothesis runs derandomized (a fixed seed);
`TASKCENTER_FUZZ_EXAMPLES` sets the cases per operation and mode (default 40: 1,200 per database
over 15 operations, valid and invalid).
"""

from __future__ import annotations

import os
import time
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.integration.harness import RunningTaskCenter, ok

OPENAPI_PATH = "/api/taskcenter/openapi.json"
EXAMPLES = int(os.environ.get("TASKCENTER_FUZZ_EXAMPLES", "40"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _plan_count(tc: RunningTaskCenter) -> int:
    return ok(tc.request("GET", "/api/schedules", params={"limit": 1}))["totalHits"]


def _send(tc: RunningTaskCenter, case: Any) -> None:
    if isinstance(case.body, dict) and case.body.get("sync") is True:
        case.body["sync"] = False  # a run-now that waits for its job would wait for a real notebook
    writes_plans = case.method.upper() == "POST" and case.path == "/api/schedules"
    before = _plan_count(tc) if writes_plans else None
    response = case.call(
        base_url=tc.base_url, session=tc.http, headers={"Authorization": f"Bearer {tc.token}"}, timeout=120
    )
    case.validate_response(response, checks=CHECKS)
    if writes_plans and response.status_code >= 400:
        assert _plan_count(tc) == before, f"a refused write stored a plan: {response.text[:300]}"


def test_no_request_gets_a_server_error_or_an_undocumented_answer(tc: RunningTaskCenter) -> None:
    document = tc.http.get(tc.url(OPENAPI_PATH), timeout=30)
    assert document.status_code == 200, document.text  # published without a token
    schema = schemathesis.openapi.from_dict(document.json())
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure shows the case as sent
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: Any) -> None:
                nonlocal sent
                sent += 1
                _send(tc, case)

            fuzz()
    print(f"fuzz: {sent} requests")
    assert sent >= min(1000, 25 * EXAMPLES)  # the floor: 1,000 cases per database

    # Every plan file belongs to a plan; none failed to import once the requested parses are done.
    plans = {f"plan_{p['id']}.py" for p in ok(tc.request("GET", "/api/schedules", params={"limit": 1000}))["data"]}
    assert {f.name for f in (tc.home / "plans").rglob("plan_*.py")} <= plans
    time.sleep(3)
    errors = tc.request("GET", "/api/v2/importErrors", params={"limit": 100}).json()["import_errors"]
    assert [(e["filename"], e["stack_trace"][-800:]) for e in errors if "plan_" in e["filename"]] == []
