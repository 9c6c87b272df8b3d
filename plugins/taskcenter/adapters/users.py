"""Users of the FAB auth manager, as the API shows them (never with credential material)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskcenter.domain.users import Role, UserInfo


class FabUserDirectory:
    def __init__(self, session: Session) -> None:
        self._session = session

    def ids_by_login(self, logins: Iterable[str]) -> dict[str, int]:
        return ids_by_login(self._session, logins)

    def get_many(self, user_ids: Iterable[int]) -> dict[int, UserInfo]:
        """Users by id, with their roles' names: plain column reads.

        Loading FAB's `User` entities pulled each role's permissions too (the models load them
        eagerly): about a fifth of the api-server's CPU under load went there.
        """
        from airflow.providers.fab.auth_manager.models import Role as FabRole, User, assoc_user_role

        ids = sorted({i for i in user_ids if i is not None})
        if not ids:
            return {}
        roles: dict[int, list[Role]] = {}
        for user_id, role_id, role_name in self._session.execute(
            select(assoc_user_role.c.user_id, FabRole.id, FabRole.name)
            .join(FabRole, FabRole.id == assoc_user_role.c.role_id)
            .where(assoc_user_role.c.user_id.in_(ids))
            .order_by(FabRole.id)
        ):
            roles.setdefault(user_id, []).append(Role(id=role_id, name=role_name))
        rows = self._session.execute(
            select(User.id, User.username, User.first_name, User.last_name, User.email, User.active).where(User.id.in_(ids))
        )
        return {
            user_id: UserInfo(
                id=user_id,
                login_name=username,
                name=" ".join(part for part in (first_name, last_name) if part) or username,
                email=email,
                enabled=bool(active),
                roles=tuple(roles.get(user_id, [])),
            )
            for user_id, username, first_name, last_name, email, active in rows
        }


def ids_by_login(session: Session, logins: Iterable[str]) -> dict[str, int]:
    """FAB user ids by login name (who triggered a manual run)."""
    from airflow.providers.fab.auth_manager.models import User

    names = sorted({n for n in logins if n})
    if not names:
        return {}
    return {username: user_id for user_id, username in session.execute(select(User.id, User.username).where(User.username.in_(names)))}
