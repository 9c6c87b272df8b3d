"""Who calls, and what they may do with plans' DAGs: Airflow's own auth manager (FAB by default).

Airflow's `get_user` resolves the bearer token (`POST /auth/token`, or the UI's session cookie);
its HTTP errors become domain errors so they reach the client in the API's envelope. A missing,
expired or invalid token is 401: for this API's clients all three mean "log in again".

A plan is a DAG, so a caller may do with a plan what the auth manager lets them do with its DAG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from taskcenter.adapters.airflow.naming import dag_id_for, plan_id_of
from taskcenter.domain.errors import AuthenticationError, ErrorCode
from taskcenter.domain.users import Caller

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.security import HTTPAuthorizationCredentials

Method = Literal["GET", "POST", "PUT", "DELETE"]
DagEntity = Literal["RUN", "TASK_LOGS", "XCOM"]

# A DAG id no DAG has: only a grant of every DAG covers it (FAB: the "DAGs" resource).
EVERY_DAG = "taskcenter: every DAG"


async def authenticate(request: Request, bearer: HTTPAuthorizationCredentials | None) -> Caller:
    """The caller of a request, from its bearer token or the UI's session."""
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import HTTPException

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
    return Caller(user_id=user_id, name=user.get_name(), principal=user)


def _authentication_error(exc: Any) -> AuthenticationError:
    if exc.detail == "Token Expired":
        return AuthenticationError("token expired: get a new one with POST /auth/token", code=ErrorCode.TOKEN_EXPIRED)
    if exc.status_code == 403:
        return AuthenticationError("invalid token: get a new one with POST /auth/token")
    return AuthenticationError(
        "authentication required: send 'Authorization: Bearer <token>' obtained from POST /auth/token"
    )


class DagAccess:
    """The auth manager's answers for plans' DAGs (stateless: one instance serves every request)."""

    def may(self, caller: Caller, *, method: Method, entity: DagEntity | None = None, plan_id: int | None) -> bool:
        """Whether the caller may do this to the plan's DAG; without a plan (a new one, or a
        target that does not exist), to every DAG, so a caller granted some DAGs learns nothing
        about the others."""
        dag_id = dag_id_for(plan_id) if plan_id is not None else EVERY_DAG
        return self._is_authorized(caller, method=method, entity=entity, dag_id=dag_id)

    def may_on_some(self, caller: Caller, *, method: Method, entity: DagEntity | None = None) -> bool:
        """Whether the caller may do this to some DAG (a list shows only those)."""
        return self._is_authorized(caller, method=method, entity=entity, dag_id=None)

    def readable_plans(self, caller: Caller) -> frozenset[int] | None:
        """The plans whose DAG the caller may read (None: every DAG, so no filter is needed)."""
        from airflow.api_fastapi.app import get_auth_manager

        if self.may(caller, method="GET", plan_id=None):
            return None
        dag_ids = get_auth_manager().get_authorized_dag_ids(user=caller.principal, method="GET")
        return frozenset(plan_id for dag_id in dag_ids if (plan_id := plan_id_of(dag_id)) is not None)

    @staticmethod
    def _is_authorized(caller: Caller, *, method: Method, entity: DagEntity | None, dag_id: str | None) -> bool:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

        return get_auth_manager().is_authorized_dag(
            method=method,
            access_entity=DagAccessEntity[entity] if entity else None,
            details=DagDetails(id=dag_id) if dag_id is not None else None,
            user=caller.principal,
        )
