"""Users of the FAB auth manager, as the API shows them (never with credential material)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from taskcenter.domain.users import Role, UserInfo


class FabUserDirectory:
    def __init__(self, session: Session) -> None:
        self._session = session

    def ids_by_login(self, logins: Iterable[str]) -> dict[str, int]:
        return ids_by_login(self._session, logins)

    def get_many(self, user_ids: Iterable[int]) -> dict[int, UserInfo]:
        from airflow.providers.fab.auth_manager.models import User

        ids = sorted({i for i in user_ids if i is not None})
        if not ids:
            return {}
        users = self._session.scalars(select(User).where(User.id.in_(ids)).options(selectinload(User.roles)))
        return {
            user.id: UserInfo(
                id=user.id,
                login_name=user.username,
                name=" ".join(part for part in (user.first_name, user.last_name) if part) or user.username,
                email=user.email,
                enabled=bool(user.active),
                roles=tuple(Role(id=role.id, name=role.name) for role in user.roles),
            )
            for user in users
        }


def ids_by_login(session: Session, logins: Iterable[str]) -> dict[str, int]:
    """FAB user ids by login name (who triggered a manual run)."""
    from airflow.providers.fab.auth_manager.models import User

    names = sorted({n for n in logins if n})
    if not names:
        return {}
    return {username: user_id for user_id, username in session.execute(select(User.id, User.username).where(User.username.in_(names)))}
