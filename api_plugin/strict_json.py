"""Request bodies parsed as JSON, strictly: no NaN, Infinity or numbers out of float range.

Python's `json` accepts `NaN`, `Infinity` and `-Infinity` and reads `1e400` as infinity; none is
JSON (RFC 8259), and such a value stored in a plan broke its DAG file and every plan list after
it. Routes of the compat app parse bodies through `StrictJsonRequest` (FastAPI's documented way:
a custom `APIRoute` with its own request class); a refused body is the usual malformed-JSON 400.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class _NotJson(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"{text[:20]} is out of range for a number")
    return value


def loads_strict(body: bytes | str) -> Any:
    """`json.loads`, refusing what is not JSON; raises `json.JSONDecodeError`."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_finite_float)
    except _NotJson as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = loads_strict(body)
            except UnicodeDecodeError:
                raise json.JSONDecodeError("the body is not UTF-8", "", 0) from None
        return self._json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
