"""The nightly run of sync project 1, owned by the data-engineering team in plain Airflow.

It lands the day's raw orders and then declares the entity asset of `DB_BATCH_SYNC 1`, so
taskcenter plans that depend on that entity (for example the refresh of dataset `1-1`, with a
DEPENDENCY item `{"entityGroup": "DB_BATCH_SYNC", "entityKey": "1"}`) run right after it.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

from airflow.sdk import DAG, Asset, task

SYNC_PROJECT_1_DONE = Asset("taskcenter://plans/DB_BATCH_SYNC/1")

with DAG(
    dag_id="sync_project_1_nightly",
    description="Lands raw orders, then signals that sync project 1 finished",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["example", "taskcenter"],
):

    @task(outlets=[SYNC_PROJECT_1_DONE])
    def land_raw_orders(*, ds: str | None = None, **_: object) -> int:
        from airflow.configuration import conf

        folder = Path(conf.get("core", "dags_folder")).parent / "landing"
        folder.mkdir(parents=True, exist_ok=True)
        rows = [{"order_id": i, "amount": 10 * i, "day": ds or "manual"} for i in range(1, 6)]
        with (folder / f"orders_{ds or 'manual'}.csv").open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)

    land_raw_orders()
