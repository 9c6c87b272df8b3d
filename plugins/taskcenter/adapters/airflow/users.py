"""Users of the FAB auth manager, as the API shows them (never with credential material)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskcenter.domain.users import Role, UserInfo


class FabUserDirectory:
    """Users by id for one request (or one short session): each user is read once per instance."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[int, UserInfo | None] = {}

    def ids_by_login(self, logins: Iterable[str]) -> dict[str, int]:
        return ids_by_login(self._session, logins)

    def get_many(self, user_ids: Iterable[int]) -> dict[int, UserInfo]:
        """Users by id, with their roles' names: plain column reads, one query.

        Loading FAB's `User` entities pulled each role's permissions too (the models load them
        eagerly): about a fifth of the api-server's CPU under load went there. A request asks for
        the same user several times (the plan's owner for its DAG, the entity's creator for the
        answer); the first answer is kept for the rest of the request.
        """
        ids = sorted({i for i in user_ids if i is not None})
        missing = [i for i in ids if i not in self._known]
        if missing:
            found = _read_users(self._session, missing)
            self._known.update({i: found.get(i) for i in missing})
        return {i: user for i in ids if (user := self._known[i]) is not None}


def _read_users(session: Session, ids: list[int]) -> dict[int, UserInfo]:
    from airflow.providers.fab.auth_manager.models import Role as FabRole
    from airflow.providers.fab.auth_manager.models import User, assoc_user_role

    rows = session.execute(
        select(
            User.id, User.username, User.first_name, User.last_name, User.email, User.active, FabRole.id, FabRole.name
        )
        .outerjoin(assoc_user_role, assoc_user_role.c.user_id == User.id)
        .outerjoin(FabRole, FabRole.id == assoc_user_role.c.role_id)
        .where(User.id.in_(ids))
        .order_by(User.id, FabRole.id)
    )
    users: dict[int, UserInfo] = {}
    roles: dict[int, list[Role]] = {}
    for user_id, username, first_name, last_name, email, active, role_id, role_name in rows:
        if user_id not in users:
            users[user_id] = UserInfo(
                id=user_id,
                login_name=username,
                name=" ".join(part for part in (first_name, last_name) if part) or username,
                email=email,
                enabled=bool(active),
                roles=(),
            )
            roles[user_id] = []
        if role_id is not None:
            roles[user_id].append(Role(id=role_id, name=role_name))
    return {user_id: dataclasses.replace(user, roles=tuple(roles[user_id])) for user_id, user in users.items()}


def ids_by_login(session: Session, logins: Iterable[str]) -> dict[str, int]:
    """FAB user ids by login name (who triggered a manual run)."""
    from airflow.providers.fab.auth_manager.models import User

    names = sorted({n for n in logins if n})
    if not names:
        return {}
    return {
        username: user_id
        for user_id, username in session.execute(select(User.id, User.username).where(User.username.in_(names)))
    }
