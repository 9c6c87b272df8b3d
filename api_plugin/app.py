"""The compat FastAPI app, reached through `CompatDispatcher` inside Airflow's api-server."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from api_plugin.deps import current_caller
from api_plugin.errors import install_error_handlers
from api_plugin.routes import contexts, fallback, schedules

# Published without a token, like Airflow's own /openapi.json (README, "The API document").
OPENAPI_PATH = "/api/taskcenter/openapi.json"
# What a path id is (`api_plugin.datamodels.paths`); anything else names nothing (404).
PATH_ID_PATTERN = r"^(0|[1-9][0-9]{0,18})$"


def create_compat_app() -> FastAPI:
    from taskcenter.version import version_string

    app = FastAPI(
        title="taskcenter compat API",
        version=version_string(),
        description="The task management center API (/api/schedules, /api/contexts); see docs/api.md.",
        # Every endpoint needs an Airflow token; per-route dependencies reuse the same (cached) caller.
        dependencies=[Depends(current_caller)],
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
    )
    install_error_handlers(app)
    app.include_router(schedules.router)
    app.include_router(contexts.router)
    app.include_router(fallback.router)  # last: it matches every path
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, made to say what the app does: failures are the error envelope with
    400 (FastAPI documents a 422 that this app never answers), path ids are plain decimals, and
    every operation needs a bearer token from `POST /auth/token`."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
            operation["security"] = [{"bearer": []}]
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    parameter["schema"] = {"type": "string", "pattern": PATH_ID_PATTERN, "title": parameter["name"]}
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    document.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "a token from Airflow's POST /auth/token"}
    }
    app.openapi_schema = document
    return document
