"""Plans' DAG files are parsed when they change, never on a timer; ordinary DAG files still are.

The harness sets `[dag_processor] min_file_process_interval` to 10 s (Airflow's default is 30 s),
so a timer would show within the test; the plans' own processor ignores it (docs/scale.md).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from tests.integration.harness import RunningTaskCenter, ok

INTERVAL = 10  # the harness's min_file_process_interval

USER_DAG = """
from datetime import datetime, timezone
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(
    dag_id="{dag_id}", schedule=None, start_date=datetime(2020, 1, 1, tzinfo=timezone.utc), description="{description}"
):
    EmptyOperator(task_id="noop")
"""


def _dag(tc: RunningTaskCenter, dag_id: str) -> dict[str, Any]:
    response = tc.request("GET", f"/api/v2/dags/{dag_id}/details")
    assert response.status_code == 200, response.text
    return response.json()


def _parsed_at(tc: RunningTaskCenter, dag_id: str) -> datetime:
    return datetime.fromisoformat(_dag(tc, dag_id)["last_parsed_time"])


def _wait(predicate: Any, *, timeout: float, what: str, tc: RunningTaskCenter) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout}s\n{tc.component_logs()}")


def test_plan_files_are_parsed_on_change_and_user_dags_on_airflows_timer(tc: RunningTaskCenter) -> None:
    body = {
        "entityGroup": "PIPELINE",
        "entityKey": "1",
        "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 3 * * ?", "timeZone": "UTC"}],
    }
    plan = ok(tc.request("POST", "/api/schedules", json=body))["data"]
    plan_dag = f"taskcenter_plan_{plan['id']}"
    user_dag = f"user_dag_{uuid.uuid4().hex[:8]}"
    user_file = tc.add_dag_file(f"{user_dag}.py", USER_DAG.format(dag_id=user_dag, description="first"))
    tc.wait_for_dag(plan_dag)
    tc.wait_for_dag(user_dag)
    plan_parsed = _parsed_at(tc, plan_dag)
    user_parsed = _parsed_at(tc, user_dag)

    # Two intervals: the dags folder's processor parses the user's file again; the plan's is left alone.
    _wait(
        lambda: _parsed_at(tc, user_dag) > user_parsed,
        timeout=3 * INTERVAL + 10,
        what="timer re-parse of a user DAG",
        tc=tc,
    )
    time.sleep(INTERVAL)
    assert _parsed_at(tc, plan_dag) == plan_parsed

    # A change is parsed at once (the benchmark measures the p95; this bound leaves room for a busy CI machine).
    body["planItems"] = [{"triggerType": "CRON_JOB", "cronDesc": "0 30 4 * * ?", "timeZone": "UTC"}]
    ok(tc.request("POST", "/api/schedules", json=body))
    # The API sets the next run at once; the DAG itself (its timetable, described in its
    # description) is what the plans' processor must parse again.
    took = _wait(
        lambda: "0 30 4 * * ?" in (_dag(tc, plan_dag)["description"] or ""),
        timeout=5,
        what="the changed plan's DAG",
        tc=tc,
    )
    assert _parsed_at(tc, plan_dag) > plan_parsed
    print(f"changed plan schedulable after {took:.2f}s")

    # A user's edit of an ordinary DAG file, with no parse request, is still seen on Airflow's timer.
    staged = user_file.with_suffix(".tmp")
    staged.write_text(USER_DAG.format(dag_id=user_dag, description="edited"))
    staged.replace(user_file)
    _wait(
        lambda: _dag(tc, user_dag)["description"] == "edited", timeout=3 * INTERVAL + 10, what="the user's edit", tc=tc
    )
    user_file.unlink()
