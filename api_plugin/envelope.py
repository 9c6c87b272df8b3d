"""The response envelope of the vendor API: `{"code", "msg", "version", "data", ...}`."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from taskcenter.version import version_string

SUCCESS_MSG = "success"


def success(data: Any = None, *, include_data: bool = True, **extra: Any) -> dict[str, Any]:
    """A success body; `extra` carries list fields such as `totalHits` and `offset`."""
    body: dict[str, Any] = {"code": 0, "msg": SUCCESS_MSG, "version": version_string()}
    if include_data:
        body["data"] = data
    body.update(extra)
    return jsonable_encoder(body)


def failure(
    *, status_code: int, code: int, msg: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": int(code), "msg": msg, "version": version_string(), "data": None}
    if field:
        body["field"] = field
    return JSONResponse(status_code=status_code, content=body, headers=headers)
