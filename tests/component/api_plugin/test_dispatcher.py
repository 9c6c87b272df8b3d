from __future__ import annotations

from typing import Any

from api_plugin.dispatcher import CompatDispatcher
from tests.unit.api_plugin.dispatcher_helpers import Recorder, dispatch


def test_the_compat_app_is_built_while_the_server_starts_not_in_the_first_request(monkeypatch) -> None:
    built: list[str] = []
    compat = Recorder("compat")

    def create() -> Any:
        built.append("compat app")
        return compat

    monkeypatch.setattr("api_plugin.app.create_compat_app", create)
    airflow = Recorder("airflow")
    dispatcher = CompatDispatcher(airflow)
    dispatch(dispatcher, {"type": "lifespan", "path": ""})
    assert built == ["compat app"] and airflow.calls == [""]
    dispatch(dispatcher, {"type": "http", "path": "/api/schedules"})
    assert built == ["compat app"] and compat.calls == ["/api/schedules"]
