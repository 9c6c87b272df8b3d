"""Authentication and authorization of compat requests, by Airflow's own auth manager.

Airflow's `get_user` resolves the bearer token (`POST /auth/token`, or the UI's session cookie)
through the configured auth manager (FAB). Its HTTP errors become domain errors so they reach the
client in the envelope. A missing, expired or invalid token is 401: for this API's clients all
three mean "log in again".

A plan is a DAG, so what a caller may do is what Airflow lets them do with the plan's DAG (see
docs/api.md): read plans with DAG read access, change them with DAG edit access, delete them with
DAG delete access, run them now with DAG-run create access, cancel with DAG-run edit access, read
logs and results with task-log and XCom read access. A refusal is 403.

Per DAG, on every path, as Airflow's own API does: a route that names a plan (its id, a context
of it, its entity in the body) is authorized against that plan's DAG; a list shows only the plans
whose DAG the caller may read (`readable_plans`), totals included. A target that does not exist is
authorized as "every DAG", so a caller granted some DAGs learns nothing about the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from airflow.api_fastapi.core_api.security import bearer_scheme, get_user
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from api_plugin.datamodels.paths import parse_path_id
from api_plugin.plan_targets import PlanTargets, PlanTargetsDep
from taskcenter.adapters.airflow.naming import dag_id_for, plan_id_of
from taskcenter.domain.errors import AuthenticationError, ErrorCode, PermissionDeniedError
from taskcenter.domain.plans import EntityRef


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


Method = Literal["GET", "POST", "PUT", "DELETE"]
Entity = Literal["RUN", "TASK_LOGS", "XCOM"]

# A DAG id no DAG has: only a grant of every DAG covers it (FAB: the "DAGs" resource).
_EVERY_DAG = "taskcenter: every DAG"

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


def _is_authorized(caller: Caller, *, method: Method, entity: Entity | None, dag_id: str | None) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    return get_auth_manager().is_authorized_dag(
        method=method,
        access_entity=DagAccessEntity[entity] if entity else None,
        details=DagDetails(id=dag_id) if dag_id is not None else None,
        user=caller.user,
    )


def authorize(caller: Caller, *, method: Method, entity: Entity | None = None, plan_id: int | None = None) -> None:
    """Raise 403 unless Airflow's auth manager lets the caller do this to the plan's DAG; without a
    plan (a new one, or a target that does not exist), to every DAG."""
    dag_id = dag_id_for(plan_id) if plan_id is not None else _EVERY_DAG
    if not _is_authorized(caller, method=method, entity=entity, dag_id=dag_id):
        _refuse(caller, method=method, entity=entity)


def _refuse(caller: Caller, *, method: Method, entity: Entity | None) -> None:
    action = _ACTIONS.get((method, entity), f"{method} {entity or 'DAGs'}")
    raise PermissionDeniedError(f"forbidden: user {caller.name!r} may not {action}")


def authorize_entity(
    caller: Caller, targets: PlanTargets, ref: EntityRef, *, method: Method, entity: Entity | None = None
) -> int | None:
    """`authorize` for the plan of an entity named in a body; returns that plan's id (None: none yet)."""
    plan_id = targets.plan_of_entity(ref)
    authorize(caller, method=method, entity=entity, plan_id=plan_id)
    return plan_id


def readable_plans(caller: Caller) -> frozenset[int] | None:
    """The plans whose DAG the caller may read (None: every DAG, so no filter is needed)."""
    from airflow.api_fastapi.app import get_auth_manager

    if _is_authorized(caller, method="GET", entity=None, dag_id=_EVERY_DAG):
        return None
    dag_ids = get_auth_manager().get_authorized_dag_ids(user=caller.user, method="GET")
    return frozenset(plan_id for dag_id in dag_ids if (plan_id := plan_id_of(dag_id)) is not None)


def _readable_plans(caller: CallerDep) -> frozenset[int] | None:
    return readable_plans(caller)


ReadablePlansDep = Annotated[frozenset[int] | None, Depends(_readable_plans)]


def requires(method: Method, entity: Entity | None = None) -> Any:
    """A route dependency: `authorize` for the plan the path names (`scheduleId`, or the plan of
    `contextId`); on a path that names none (a list), the caller needs the access for some DAG,
    and the list itself shows only the readable plans."""

    def check(request: Request, caller: CallerDep, targets: PlanTargetsDep) -> None:
        params = request.path_params
        if "scheduleId" in params:
            plan_id = parse_path_id(params["scheduleId"], field="scheduleId", what="plan")
            authorize(caller, method=method, entity=entity, plan_id=plan_id)
        elif "contextId" in params:
            run_pk = parse_path_id(params["contextId"], field="contextId", what="context")
            authorize(caller, method=method, entity=entity, plan_id=targets.plan_of_run(run_pk))
        elif not _is_authorized(caller, method=method, entity=entity, dag_id=None):
            _refuse(caller, method=method, entity=entity)

    return Depends(check)
