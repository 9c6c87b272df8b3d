"""The Airflow plugin: the composition root that Airflow loads in every process.

Registered through the `airflow.plugins` entry point. It only names things; nothing is built or
imported eagerly. The compat API app is created when the api-server builds its middleware stack
(see `compat_dispatcher`), never in the scheduler, dag-processor or workers.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin


def compat_dispatcher(app: Any) -> Any:
    """Middleware factory: route `/api/schedules*` and `/api/contexts*` to the compat app."""
    from api_plugin.dispatcher import CompatDispatcher

    return CompatDispatcher(app)


class TaskCenterPlugin(AirflowPlugin):
    name = "taskcenter"
    fastapi_root_middlewares = [
        {"middleware": compat_dispatcher, "args": [], "kwargs": {}, "name": "taskcenter-compat-api"},
    ]
