"""Any other path or method under the compat prefixes: authenticated first, then 405 or 404.

Registered last. Like the vendor's server, the API does not tell an anonymous caller which paths
exist: without a token every compat path answers 401. A known path with another method is 405
(code 40500) with the methods it takes in `Allow`; an unknown path is 404 (code 40401).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.routing import Match

from api_plugin.envelope import failure
from taskcenter.domain.errors import ErrorCode, NotFoundError

router = APIRouter()

_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/{path:path}", methods=_METHODS, include_in_schema=False)
def no_such_endpoint(request: Request, path: str) -> Any:
    allowed = _allowed_methods(request)
    if allowed:
        return failure(
            status_code=405,
            code=ErrorCode.METHOD_NOT_ALLOWED,
            msg=f"method not allowed: {request.method} /{path[:200]} takes {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    raise NotFoundError(f"no such endpoint: {request.method} /{path[:200]}", code=ErrorCode.ROUTE_NOT_FOUND)


def _allowed_methods(request: Request) -> list[str]:
    """The methods of the other routes whose path matches this request's."""
    allowed: set[str] = set()
    for route in request.app.router.routes:
        if getattr(route, "endpoint", None) is no_such_endpoint:
            continue
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            allowed.update(getattr(route, "methods", None) or ())
    return sorted(allowed)
