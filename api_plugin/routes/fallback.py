"""Any other path under the compat prefixes: authenticated first, then 404.

Registered last. Like the vendor's server, the API does not tell an anonymous caller which paths
exist: without a token every compat path answers 401.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from taskcenter.domain.errors import ErrorCode, NotFoundError

router = APIRouter()

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/{path:path}", methods=_METHODS, include_in_schema=False)
def no_such_endpoint(request: Request, path: str) -> None:
    raise NotFoundError(f"no such endpoint: {request.method} /{path}", code=ErrorCode.ROUTE_NOT_FOUND)
