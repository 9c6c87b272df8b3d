"""FabUserDirectory on SQLite and PostgreSQL: users with their roles in one query, each user read
once per request however often the request asks (a plan write asks for its owner three times)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.users import FabUserDirectory
from taskcenter.domain.users import Role
from tests.component.databases import session_for, statements

pytest_plugins = ("tests.component.database_fixtures",)  # `engine`: SQLite and PostgreSQL


def add_users(engine: sa.Engine) -> None:
    from airflow.providers.fab.auth_manager.models import Model, User
    from airflow.providers.fab.auth_manager.models import Role as FabRole

    Model.metadata.create_all(engine)
    with Session(engine) as db:
        admin, viewer = FabRole(name="Admin"), FabRole(name="Viewer")
        db.add_all([admin, viewer])
        db.add(
            User(
                id=1,
                first_name="Ada",
                last_name="Admin",
                username="ada",
                email="ada@example.com",
                active=True,
                roles=[admin, viewer],
            )
        )
        db.add(
            User(id=2, first_name="", last_name="", username="noroles", email="n@example.com", active=False, roles=[])
        )
        db.commit()


def test_users_come_with_their_roles_and_each_is_read_once(engine: sa.Engine) -> None:
    add_users(engine)
    with session_for(engine) as db, statements(engine) as seen:
        users = FabUserDirectory(db)
        found = users.get_many([2, 1, 1, 99])
        assert users.get_many([1]) == {1: found[1]}
        assert users.get_many([99, 2]) == {2: found[2]}  # a missing id is remembered as missing
    assert seen.count == 1, str(seen)
    assert found[1].login_name == "ada" and found[1].name == "Ada Admin" and found[1].enabled
    assert [r.name for r in found[1].roles] == ["Admin", "Viewer"] and all(isinstance(r, Role) for r in found[1].roles)
    assert found[2].name == "noroles" and found[2].roles == () and not found[2].enabled
    assert 99 not in found
