"""Benchmark: a new plan's time from the API's answer to schedulable, against Airflow's own.

    .venv/bin/python benchmarks/bench_plan_create.py [--samples 5]      (or: make bench)

Starts one taskcenter on a temporary AIRFLOW_HOME (the embedded PostgreSQL server and LocalExecutor,
as `make run`; `--backend sqlite` for SQLite) and, in the same run, measures:

- taskcenter: `POST /api/schedules` (a `0 0 9 * * ?` plan) -> the plan's DAG is schedulable, i.e.
  `/api/v2/dags/<id>` shows it unpaused with its next run computed;
- Airflow, new DAG file: an equivalent hand-written DAG file dropped into the dags folder ->
  schedulable (Airflow finds new files at its bundle refresh, `[dag_processor] refresh_interval`
  300 s by default); one sample, as each takes minutes;
- Airflow, new DAG file + parse request: the same with a `DagPriorityParsingRequest`, the fastest
  path Airflow has (what taskcenter does for every plan).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.harness import RunningTaskCenter, delete_all_plans, ok, start_taskcenter  # noqa: E402

NATIVE_DAG = """
from datetime import datetime, timezone
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="{dag_id}", schedule="0 9 * * *", start_date=datetime(2020, 1, 1, tzinfo=timezone.utc),
         catchup=False, is_paused_upon_creation=False):
    EmptyOperator(task_id="job")
"""


def schedulable(tc: RunningTaskCenter, dag_id: str) -> bool:
    response = tc.request("GET", f"/api/v2/dags/{dag_id}")
    if response.status_code != 200:
        return False
    body = response.json()
    return body["is_paused"] is False and body.get("next_dagrun_run_after") is not None


def wait_schedulable(tc: RunningTaskCenter, dag_id: str, *, start: float, timeout: float) -> float:
    while time.monotonic() - start < timeout:
        if schedulable(tc, dag_id):
            return time.monotonic() - start
        time.sleep(0.05)
    raise TimeoutError(f"{dag_id} not schedulable within {timeout}s")


def taskcenter_sample(tc: RunningTaskCenter) -> float:
    delete_all_plans(tc)
    body = {
        "entityGroup": "NOTEBOOK",
        "entityKey": "1",
        "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ?", "timeZone": "UTC"}],
    }
    plan = ok(tc.request("POST", "/api/schedules", json=body))["data"]
    answered = time.monotonic()
    return wait_schedulable(tc, f"taskcenter_plan_{plan['id']}", start=answered, timeout=60)


def native_sample(tc: RunningTaskCenter, index: int, *, parse_request: bool, timeout: float) -> float:
    dag_id = f"native_{'req' if parse_request else 'plain'}_{index}"
    path = tc.settings.dags_folder / f"{dag_id}.py"
    if parse_request:
        tc.add_dag_file(path.name, NATIVE_DAG.format(dag_id=dag_id))
    else:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(NATIVE_DAG.format(dag_id=dag_id))
        tmp.replace(path)
    return wait_schedulable(tc, dag_id, start=time.monotonic(), timeout=timeout)


def summary(name: str, samples: list[float]) -> str:
    return (
        f"{name:<44} n={len(samples):<2} median {statistics.median(samples):7.2f} s   "
        f"min {min(samples):6.2f} s   max {max(samples):6.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--skip-plain", action="store_true", help="skip the minutes-long plain new-file sample")
    parser.add_argument(
        "--backend",
        choices=("postgres", "sqlite"),
        default="postgres",
        help="metadata DB (default: the embedded PostgreSQL)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-taskcenter-") as home:
        tc = start_taskcenter(backend=args.backend, home=Path(home))
        try:
            time.sleep(5)  # let the first parsing loops settle
            ours = [taskcenter_sample(tc) for _ in range(args.samples)]
            requested = [native_sample(tc, i, parse_request=True, timeout=60) for i in range(args.samples)]
            plain = [] if args.skip_plain else [native_sample(tc, 0, parse_request=False, timeout=400)]
        finally:
            tc.stop()  # the supervisor first, or it would start again what the stop ends
    print(f"create-to-schedulable ({args.backend}, LocalExecutor, same Airflow, same run)")
    print(summary("taskcenter POST /api/schedules", ours))
    print(summary("Airflow: new DAG file + parse request", requested))
    if plain:
        print(summary("Airflow: new DAG file (bundle refresh)", plain))
        print(f"ratio taskcenter / Airflow new DAG file: {statistics.median(ours) / statistics.median(plain):.3f}")
    print(
        "ratio taskcenter / Airflow new file + parse request: "
        f"{statistics.median(ours) / statistics.median(requested):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
