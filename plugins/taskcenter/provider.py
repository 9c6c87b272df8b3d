"""Provider metadata: lets `airflow db migrate` own taskcenter's tables and documents its config.

Airflow reads this through the `apache_airflow_provider` entry point. Keep it a plain dict built
without Airflow: every Airflow process calls it while discovering providers, some while importing
Airflow's configuration. The `config` section comes from the options' declaration
(`taskcenter.adapters.config`), which imports nothing of Airflow either.
"""

from __future__ import annotations

from typing import Any

from taskcenter.adapters.config import provider_config


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-taskcenter",
        "name": "taskcenter",
        "description": "Task management center (任务管理中心): the vendor task-center API on Airflow.",
        "db-managers": ["taskcenter.adapters.store.db_manager.TaskCenterDBManager"],
        "config": provider_config(),
    }
