from __future__ import annotations

import pytest

from api_plugin.dispatcher import CompatDispatcher, is_compat_path
from tests.unit.api_plugin.dispatcher_helpers import Recorder, dispatch


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/schedules", True),
        ("/api/schedules/", True),
        ("/api/schedules/12/cancel", True),
        ("/api/contexts", True),
        ("/api/contexts/users", True),
        ("/api/taskcenter/openapi.json", True),
        ("/api/schedulesX", False),
        ("/api/contextsfoo/1", False),
        ("/api/v2/version", False),
        ("/api", False),
        ("/", False),
        ("/ui/schedules", False),
    ],
)
def test_is_compat_path(path: str, expected: bool) -> None:
    assert is_compat_path(path) is expected


def test_dispatcher_sends_compat_paths_to_compat_app_and_the_rest_to_airflow() -> None:
    airflow, compat = Recorder("airflow"), Recorder("compat")
    dispatcher = CompatDispatcher(airflow, compat_app=compat)
    for path in ("/api/schedules", "/api/contexts/5/logs", "/api/v2/dags", "/"):
        dispatch(dispatcher, {"type": "http", "path": path})
    assert compat.calls == ["/api/schedules", "/api/contexts/5/logs"]
    assert airflow.calls == ["/api/v2/dags", "/"]


def test_dispatcher_passes_lifespan_to_airflow() -> None:
    airflow, compat = Recorder("airflow"), Recorder("compat")
    dispatch(CompatDispatcher(airflow, compat_app=compat), {"type": "lifespan", "path": "/api/schedules"})
    assert airflow.calls == ["/api/schedules"] and compat.calls == []


def test_dispatcher_honours_the_root_path_of_a_prefixed_base_url() -> None:
    airflow, compat = Recorder("airflow"), Recorder("compat")
    dispatcher = CompatDispatcher(airflow, compat_app=compat)
    dispatch(dispatcher, {"type": "http", "path": "/airflow/api/schedules", "root_path": "/airflow"})
    dispatch(dispatcher, {"type": "http", "path": "/airflow/api/v2/version", "root_path": "/airflow"})
    assert compat.calls == ["/airflow/api/schedules"]
    assert airflow.calls == ["/airflow/api/v2/version"]
