"""Provider metadata: lets `airflow db migrate` own taskcenter's tables and documents its config.

Airflow reads this through the `apache_airflow_provider` entry point. Keep it a plain literal:
every Airflow process calls it while discovering providers.
"""

from __future__ import annotations

from typing import Any


def _option(description: str, default: str, *, type_: str = "string", example: str | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": type_,
        "example": example,
        "default": default,
    }


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-taskcenter",
        "name": "taskcenter",
        "description": "Task management center (任务管理中心): the vendor task-center API on Airflow.",
        "db-managers": ["taskcenter.adapters.store.db_manager.TaskCenterDBManager"],
        "config": {
            "taskcenter": {
                "description": "Settings of the taskcenter plugin (see docs/configuration.md).",
                "options": {
                    "plans_bundle": _option(
                        "Name of the DAG bundle (a LocalDagBundle) that holds generated plan DAG files.",
                        "dags-folder",
                    ),
                    "plans_subfolder": _option(
                        "Sub-folder of the plans bundle where one DAG file per plan is written.",
                        "taskcenter_plans",
                    ),
                    "catalog_path": _option(
                        "JSON file of the entity catalog; empty: the demo catalog shipped with the package.",
                        "",
                        example="/opt/taskcenter/catalog.json",
                    ),
                    "parse_timeout": _option(
                        "Seconds a run-now request waits for the dag-processor to parse a new plan's DAG.",
                        "30",
                    ),
                    "sync_timeout": _option(
                        "Seconds a run-now request with `sync: true` waits for the run to end.",
                        "3600",
                    ),
                    "logs_block_timeout": _option(
                        "Seconds `GET /api/contexts/{id}/logs|results?block=true` waits for the run to end.",
                        "600",
                    ),
                    "max_waiting_requests": _option(
                        "Requests that may wait for a run at once (`sync: true`, `block=true`), on threads of"
                        " their own so that they never take the api-server threads tasks heartbeat through.",
                        "100",
                    ),
                    "retry_delay_seconds": _option(
                        "Seconds between the tries of a failed job (`retryTimes` is the number of retries).",
                        "30",
                    ),
                    "job_runners": _option(
                        "Extra job runners, JSON {jobClass: 'module:callable'} (see docs/configuration.md).",
                        "",
                        example='{"com.example.MyJob": "my_pkg.jobs:run"}',
                    ),
                    "job_classes": _option(
                        "Extra job classes accepted in execDetail, JSON {jobClass: entityGroup}.",
                        "",
                        example='{"com.example.MyJob": "NOTEBOOK"}',
                    ),
                    "results_folder": _option(
                        "Folder where job runs keep their files (screenshots, reports, executed notebooks);"
                        " empty: {AIRFLOW_HOME}/taskcenter/results.",
                        "",
                        example="/var/lib/taskcenter/results",
                    ),
                    "engine_conn_id": _option(
                        "Airflow connection of the dataset engine DB that DATASET and APP_REFRESH jobs fill.",
                        "taskcenter_engine",
                    ),
                    "smtp_conn_id": _option("Airflow SMTP connection APP_EMAIL jobs send through.", "taskcenter_smtp"),
                    "email_from": _option(
                        "Sender of APP_EMAIL messages when the SMTP connection has no from_email extra.",
                        "taskcenter@localhost",
                    ),
                    "chromium_path": _option(
                        "Chromium executable for SCREENSHOT and APP_EMAIL; empty: chromium on PATH.",
                        "",
                        example="/usr/bin/chromium",
                    ),
                    "screenshot_timeout": _option("Seconds a page may take to render to PNG.", "60"),
                    "sync_batch_size": _option(
                        "Rows per batch of DB_BATCH_SYNC jobs whose project sets no batchSize.", "1000"
                    ),
                    "display_timezone": _option(
                        "Zone in which the API formats datetimes (`YYYY-MM-DD HH:MM:SS`).",
                        "Asia/Shanghai",
                        example="UTC",
                    ),
                },
            }
        },
    }
