from __future__ import annotations

import asyncio
from typing import Any

from api_plugin.dispatcher import CompatDispatcher


class _Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls.append(scope["path"])


def _dispatch(dispatcher: CompatDispatcher, scope: dict[str, Any]) -> None:
    asyncio.run(dispatcher(scope, None, None))


def test_the_compat_app_is_built_while_the_server_starts_not_in_the_first_request(monkeypatch) -> None:
    built: list[str] = []
    compat = _Recorder("compat")

    def create() -> Any:
        built.append("compat app")
        return compat

    monkeypatch.setattr("api_plugin.app.create_compat_app", create)
    airflow = _Recorder("airflow")
    dispatcher = CompatDispatcher(airflow)
    _dispatch(dispatcher, {"type": "lifespan", "path": ""})
    assert built == ["compat app"] and airflow.calls == [""]
    _dispatch(dispatcher, {"type": "http", "path": "/api/schedules"})
    assert built == ["compat app"] and compat.calls == ["/api/schedules"]
