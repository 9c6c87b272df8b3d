"""The dispatcher tests' doubles, shared by the unit and the component tests: an ASGI app that
records the paths it got, and one request through a dispatcher. Pure: no server, no socket."""

from __future__ import annotations

import asyncio
from typing import Any

from api_plugin.dispatcher import CompatDispatcher


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls.append(scope["path"])


def dispatch(dispatcher: CompatDispatcher, scope: dict[str, Any]) -> None:
    asyncio.run(dispatcher(scope, None, None))
