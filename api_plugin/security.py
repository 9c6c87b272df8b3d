"""Authentication of compat requests with Airflow's own tokens (`POST /auth/token`).

Airflow's `get_user` resolves the bearer token (or the UI's session cookie) through the configured
auth manager (FAB). Its HTTP errors become domain errors so they reach the client in the envelope.
A missing, expired or invalid token is 401: for this API's clients all three mean "log in again".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import bearer_scheme, get_user
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from taskcenter.domain.errors import AuthenticationError, ErrorCode


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
