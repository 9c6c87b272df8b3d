"""Domain errors and their stable error codes.

Services raise these; the HTTP layer maps each kind to an HTTP status and the response envelope.
The codes are part of the API contract and documented in docs/api.md.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.IntEnum):
    """Non-zero `code` values of the response envelope (0 means success)."""

    BAD_REQUEST = 40000
    INVALID_FIELD = 40001
    UNKNOWN_FIELD = 40002
    UNAUTHENTICATED = 40100
    TOKEN_EXPIRED = 40101
    FORBIDDEN = 40300
    NOT_FOUND = 40400
    ROUTE_NOT_FOUND = 40401
    METHOD_NOT_ALLOWED = 40500
    CONFLICT = 40900
    PLAN_DISABLED = 40901
    INTERNAL = 50000
    UNAVAILABLE = 50300


class TaskCenterError(Exception):
    """Base of every error the API reports with a non-zero code."""

    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, *, field: str | None = None, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidInputError(TaskCenterError):
    """The request is malformed or a field holds a value that is not allowed."""

    code = ErrorCode.INVALID_FIELD


class AuthenticationError(TaskCenterError):
    """No credential, or one that is expired or invalid."""

    code = ErrorCode.UNAUTHENTICATED


class PermissionDeniedError(TaskCenterError):
    """The caller is authenticated but not allowed to do this."""

    code = ErrorCode.FORBIDDEN


class NotFoundError(TaskCenterError):
    """An id or key names nothing that exists."""

    code = ErrorCode.NOT_FOUND


class ConflictError(TaskCenterError):
    """The request clashes with the current state (e.g. run-now on a disabled plan)."""

    code = ErrorCode.CONFLICT


class ServiceUnavailableError(TaskCenterError):
    """A dependency (Airflow's scheduler or dag-processor) did not answer in time; retrying may work."""

    code = ErrorCode.UNAVAILABLE
