"""A pure-ASGI dispatcher in front of Airflow's app.

Airflow's `fastapi_apps` mounts cannot serve the bare `/api/schedules` (a Starlette mount only
matches `prefix/...`) and a mount at `/api` would hide `/api/v2`. So a root middleware sends
exactly `/api/schedules[/...]`, `/api/contexts[/...]` and `/api/taskcenter[/...]` (the compat app's
OpenAPI document) to the compat app and everything else, untouched, to Airflow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

COMPAT_PREFIXES = ("/api/schedules", "/api/contexts", "/api/taskcenter")


def is_compat_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in COMPAT_PREFIXES)


class CompatDispatcher:
    def __init__(self, app: ASGIApp, compat_app: ASGIApp | None = None) -> None:
        self.app = app
        self._compat_app = compat_app

    @property
    def compat_app(self) -> ASGIApp:
        if self._compat_app is None:
            from api_plugin.app import create_compat_app

            self._compat_app = create_compat_app()
        return self._compat_app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # Build the compat app while the api-server starts, not inside the first request: its
            # imports would hold the event loop (every request, the execution API's too) for seconds.
            _ = self.compat_app
        if scope["type"] in ("http", "websocket") and is_compat_path(self._local_path(scope)):
            await self.compat_app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @staticmethod
    def _local_path(scope: Scope) -> str:
        """The path below Airflow's root path (`[api] base_url` may carry a prefix)."""
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            return path[len(root) :] or "/"
        return path
