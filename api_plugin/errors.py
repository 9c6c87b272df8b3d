"""Maps domain errors, FastAPI validation errors and HTTP errors to the error envelope; every
other error is answered by `api_plugin.guard.RequestGuard`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api_plugin.datamodels.schedules import ITEM_FIELD_KINDS
from api_plugin.envelope import failure
from api_plugin.guard import RequestGuard
from taskcenter.domain.errors import (
    AuthenticationError,
    ConflictError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    TaskCenterError,
)
from taskcenter.domain.plans import TriggerType

_STATUS_BY_ERROR: tuple[tuple[type[TaskCenterError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 400),
    (ServiceUnavailableError, 503),
)

_CODE_BY_STATUS = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.ROUTE_NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    503: ErrorCode.UNAVAILABLE,
}


def status_for(error: TaskCenterError) -> int:
    for kind, status in _STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 400


# The kinds of plan item: pydantic names the variant of the union in an error's location.
_ITEM_KINDS = {kind.value for kind in TriggerType}


def _field_of(location: tuple[Any, ...]) -> str:
    """`("body", "planItems", 0, "CRON_JOB", "cronDesc")` -> `planItems[0].cronDesc`."""
    parts = [p for p in location if p not in ("body", "query", "path", "header") and p not in _ITEM_KINDS]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


# Starlette types every handler as taking `Exception`; each is registered for one kind of error
# only, so its `isinstance` check always holds (it names the kind for the type checker).
async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, TaskCenterError):
        raise exc
    status = status_for(exc)
    headers = {"Retry-After": "1"} if status == 503 else None
    return failure(status_code=status, code=exc.code, msg=exc.message, field=exc.field, headers=headers)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    fallback: Mapping[str, Any] = {"loc": ("body",), "msg": "invalid request", "type": ""}
    first: Mapping[str, Any] = exc.errors()[0] if exc.errors() else fallback
    field = _field_of(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    code = ErrorCode.UNKNOWN_FIELD if kind == "extra_forbidden" else ErrorCode.INVALID_FIELD
    if kind == "extra_forbidden":
        msg = f"{field}: unknown field"
    elif kind == "json_invalid":
        code, field = ErrorCode.BAD_REQUEST, "body"
        msg = f"body: malformed JSON ({first.get('ctx', {}).get('error', 'parse error')})"
    elif kind == "missing" and field == "body":
        code, msg = ErrorCode.BAD_REQUEST, "body: a JSON object is required"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        field += ".triggerType"
        msg = f"{field}: must be one of {', '.join(sorted(_ITEM_KINDS))}"
    elif kind == "none_required" and field.rpartition(".")[2] in ITEM_FIELD_KINDS:
        name = field.rpartition(".")[2]
        msg = f"{field}: only {ITEM_FIELD_KINDS[name]} items have {name}"
    else:
        # pydantic's message, without the echo of the input (`input_value` is never sent)
        msg = f"{field}: {str(first.get('msg', 'invalid value')).removeprefix('Value error, ')}"
    return failure(status_code=400, code=code, msg=msg, field=field)


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    code = _CODE_BY_STATUS.get(exc.status_code, ErrorCode.BAD_REQUEST if exc.status_code < 500 else ErrorCode.INTERNAL)
    msg = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and msg == "Not Found":
        msg = "no such endpoint"
    return failure(status_code=exc.status_code, code=code, msg=msg)


def install_error_handlers(app: FastAPI) -> None:
    """Handlers for the errors a client caused or may retry; `RequestGuard` answers every other
    error (no handler for `Exception` here: Starlette would re-raise after it, closing the
    client's keep-alive connection)."""
    app.add_exception_handler(TaskCenterError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_middleware(RequestGuard)
