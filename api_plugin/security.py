"""Authentication and authorization of compat requests, by Airflow's own auth manager.

Airflow's `get_user` resolves the bearer token (`POST /auth/token`, or the UI's session cookie)
through the configured auth manager (FAB). Its HTTP errors become domain errors so they reach the
client in the envelope. A missing, expired or invalid token is 401: for this API's clients all
three mean "log in again".

A plan is a DAG, so what a caller may do is what Airflow lets them do with the plan's DAG (see
docs/api.md): read plans with DAG read access, change them with DAG edit access, delete them with
DAG delete access, run them now with DAG-run create access, cancel with DAG-run edit access, read
logs and results with task-log and XCom read access. A refusal is 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import bearer_scheme, get_user
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from taskcenter.adapters.airflow.naming import dag_id_for
from taskcenter.domain.errors import AuthenticationError, ErrorCode, PermissionDeniedError


@dataclass(frozen=True, kw_only=True)
class Caller:
    """The authenticated user of a request, as services need them."""

    user_id: int | None
    name: str
    user: Any


async def current_caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    try:
        user = await get_user(request, None, bearer)
    except HTTPException as exc:
        if exc.status_code not in (401, 403):
            raise
        raise _authentication_error(exc) from None
    try:
        user_id: int | None = int(user.get_id())
    except (TypeError, ValueError):
        user_id = None
    return Caller(user_id=user_id, name=user.get_name(), user=user)


def _authentication_error(exc: HTTPException) -> AuthenticationError:
    if exc.detail == "Token Expired":
        return AuthenticationError(
            "token expired: get a new one with POST /auth/token", code=ErrorCode.TOKEN_EXPIRED
        )
    if exc.status_code == 403:
        return AuthenticationError("invalid token: get a new one with POST /auth/token")
    return AuthenticationError(
        "authentication required: send 'Authorization: Bearer <token>' obtained from POST /auth/token"
    )


CallerDep = Annotated[Caller, Depends(current_caller)]


# What each (method, DAG sub-entity) lets a caller do, for the 403 message.
_ACTIONS = {
    ("GET", None): "read plans (Airflow: read DAGs)",
    ("PUT", None): "change plans (Airflow: edit DAGs)",
    ("DELETE", None): "delete plans (Airflow: delete DAGs)",
    ("GET", "RUN"): "read execution contexts (Airflow: read DAG runs)",
    ("POST", "RUN"): "run plans now (Airflow: create DAG runs)",
    ("PUT", "RUN"): "cancel runs (Airflow: edit DAG runs)",
    ("GET", "TASK_LOGS"): "read run logs (Airflow: read task logs)",
    ("GET", "XCOM"): "read run results (Airflow: read XComs)",
}


def authorize(caller: Caller, *, method: str, entity: str | None = None, plan_id: int | None = None) -> None:
    """Raise 403 unless Airflow's auth manager lets the caller do this to the plan's DAG (or to DAGs)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    details = DagDetails(id=dag_id_for(plan_id) if plan_id is not None else None)
    allowed = get_auth_manager().is_authorized_dag(
        method=method,  # type: ignore[arg-type]
        access_entity=DagAccessEntity[entity] if entity else None,
        details=details,
        user=caller.user,
    )
    if not allowed:
        action = _ACTIONS.get((method, entity), f"{method} {entity or 'DAGs'}")
        raise PermissionDeniedError(f"forbidden: user {caller.name!r} may not {action}")


def requires(method: str, entity: str | None = None) -> Any:
    """A route dependency: `authorize` for the plan the path names (`scheduleId`), else for all plans."""

    def check(request: Request, caller: CallerDep) -> None:
        raw = request.path_params.get("scheduleId")
        plan_id = int(raw) if isinstance(raw, str) and raw.isdigit() else None
        authorize(caller, method=method, entity=entity, plan_id=plan_id)

    return Depends(check)
