"""The compat FastAPI app, reached through `CompatDispatcher` inside Airflow's api-server."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from api_plugin.errors import install_error_handlers
from api_plugin.routes import contexts, fallback, schedules
from api_plugin.security import current_caller


def create_compat_app() -> FastAPI:
    app = FastAPI(
        title="taskcenter compat API",
        # Every endpoint needs an Airflow token; per-route dependencies reuse the same (cached) caller.
        dependencies=[Depends(current_caller)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.include_router(schedules.router)
    app.include_router(contexts.router)
    app.include_router(fallback.router)  # last: it matches every path
    return app
