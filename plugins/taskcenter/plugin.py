"""The Airflow plugin: the composition root that Airflow loads in every process.

Registered through the `airflow.plugins` entry point. It only names things: the timetable class
(needed by the dag-processor, scheduler and api-server to (de)serialize plan DAGs) and the HTTP
dispatcher, whose compat app is built only when the api-server builds its middleware stack.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from taskcenter.adapters.timetable import QuartzTimetable


def compat_dispatcher(app: Any) -> Any:
    """Middleware factory: route `/api/schedules*` and `/api/contexts*` to the compat app."""
    from api_plugin.dispatcher import CompatDispatcher

    return CompatDispatcher(app)


class TaskCenterPlugin(AirflowPlugin):
    name = "taskcenter"
    timetables = [QuartzTimetable]
    fastapi_root_middlewares = [
        {"middleware": compat_dispatcher, "args": [], "kwargs": {}, "name": "taskcenter-compat-api"},
    ]
