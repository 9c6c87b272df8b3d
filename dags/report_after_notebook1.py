"""Runs after the taskcenter plan of notebook 1 succeeds: publishes a small run report.

A plan's run emits the asset `taskcenter://plans/<entityGroup>/<entityKey>` when it succeeds, so
any DAG can follow a plan by scheduling on that asset, without knowing the plan's id or DAG id.
"""

from __future__ import annotations

import json
from pathlib import Path

from airflow.sdk import DAG, Asset, task

NOTEBOOK_1_DONE = Asset("taskcenter://plans/NOTEBOOK/1")

with DAG(
    dag_id="report_after_notebook1",
    description="Writes a report of each successful run of notebook 1's plan",
    schedule=[NOTEBOOK_1_DONE],
    catchup=False,
    tags=["example", "taskcenter"],
):

    @task
    def write_report(*, triggering_asset_events=None, **_: object) -> str:
        events = [
            {
                "asset": str(asset.uri),
                "source_dag": event.source_dag_id,
                "source_run": event.source_run_id,
                "at": event.timestamp.isoformat(),
            }
            for asset, asset_events in (triggering_asset_events or {}).items()
            for event in asset_events
        ]
        from airflow.configuration import conf

        folder = Path(conf.get("core", "dags_folder")).parent / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "notebook1_runs.jsonl"
        with path.open("a", encoding="utf-8") as out:
            for event in events:
                out.write(json.dumps(event) + "\n")
        return f"{len(events)} event(s) recorded in {path}"

    write_report()
