"""Users: the caller of a request, and users as the vendor API shows them (the creators of plans' entities)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Role:
    id: int
    name: str


@dataclass(frozen=True, kw_only=True)
class UserInfo:
    id: int
    login_name: str
    name: str
    email: str | None
    enabled: bool
    roles: tuple[Role, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Caller:
    """The authenticated user a request acts for.

    `principal` is the auth manager's own user object, kept opaque here: only the authorization
    adapter reads it.
    """

    user_id: int | None
    name: str
    principal: object = None
