"""PlanRepository on SQLite and PostgreSQL: what a write meets when another request wrote first.

Every outcome is a plan or a domain error (ConflictError: retry; NotFoundError: gone), never a
database exception, and a transaction that rolls back leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.errors import ConflictError, NotFoundError
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan
from tests.unit.databases import kinds, pause_after, session_for, side_by_side

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
REF = EntityRef(entity_group="NOTEBOOK", entity_key="1")
DETAIL = ExecDetail(job_class="com.hengshi.nangaparbat.schedulejob.NotebookJob", job_params={"notebook": 1}, retry_times=0)

pytest_plugins = ("tests.unit.database_fixtures",)  # `engine`: SQLite and PostgreSQL


def create(db: Session, ref: EntityRef = REF) -> Plan | None:
    return PlanRepository(db).create(
        ref=ref, exec_detail=DETAIL, enabled=True, items=(), title="notebook1", entity_created_by=1, user_id=1, now=NOW
    )


def plan_count(engine: sa.Engine) -> int:
    with session_for(engine) as db:
        return len(PlanRepository(db).all())


@pytest.fixture
def plan_id(engine: sa.Engine) -> int:
    with session_for(engine) as db:
        plan = create(db)
        db.commit()
    assert plan is not None
    return plan.id


def before_first_write(db: Session, action: Callable[[], Any]) -> None:
    """Run `action` (another request's committed write) just before this session's first write."""
    done: list[bool] = []

    def once(*_: Any) -> None:
        if not done:
            done.append(True)
            action()

    sa.event.listen(db, "before_flush", once)
    sa.event.listen(db, "do_orm_execute", lambda state: once() if state.is_insert or state.is_update or state.is_delete else None)


def other_request(engine: sa.Engine, work: Callable[[PlanRepository], Any]) -> Callable[[], None]:
    def run() -> None:
        with session_for(engine) as db:
            work(PlanRepository(db))
            db.commit()

    return run


def test_two_creates_of_one_entity_at_once_make_one_plan(engine: sa.Engine) -> None:
    looked = threading.Barrier(2, timeout=30)

    def attempt(_: int) -> Plan | None:
        with session_for(engine) as db:
            store = PlanRepository(db)
            pause_after(store, "get_by_entity", looked)
            assert store.get_by_entity(REF) is None  # both see no plan, as the service does
            plan = create(db)
            db.commit()
            return plan

    results, errors = side_by_side(attempt)
    assert errors == []
    assert sorted(r is None for r in results) == [False, True]  # the loser learns it lost: None
    assert plan_count(engine) == 1


def test_a_create_rolled_back_stores_nothing(engine: sa.Engine) -> None:
    """On SQLite too: pysqlite's SAVEPOINT must not start (and its RELEASE commit) the transaction."""
    with session_for(engine) as db:
        assert create(db) is not None
        db.rollback()
    assert plan_count(engine) == 0


def test_an_update_of_a_plan_deleted_meanwhile_is_not_found(engine: sa.Engine, plan_id: int) -> None:
    with session_for(engine) as db:
        store = PlanRepository(db)
        assert store.get(plan_id) is not None
        other_request(engine, lambda s: s.delete(plan_id))()
        with pytest.raises(NotFoundError, match=rf"\b{plan_id}\b"):
            store.update(plan_id, enabled=False, user_id=1, now=NOW)
        db.rollback()
        with pytest.raises(NotFoundError):
            store.add_once_item(plan_id, user_id=1, now=NOW)


WRITES = {
    "update": lambda s, i: s.update(i, title="renamed", user_id=1, now=NOW),
    "run-now": lambda s, i: s.add_once_item(i, user_id=1, now=NOW),
    "delete": lambda s, i: s.delete(i),
}
OTHERS = {
    "changed": (lambda s, i: s.update(i, enabled=False, user_id=2, now=NOW), ConflictError),  # read it again
    "deleted": (lambda s, i: s.delete(i), NotFoundError),  # gone
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("other", OTHERS)
def test_a_write_that_meets_another_requests_write_is_a_domain_error(engine: sa.Engine, plan_id: int, write: str, other: str) -> None:
    """The other request commits between this one's read and its first write."""
    change, expected = OTHERS[other]
    with session_for(engine) as db:
        store = PlanRepository(db)
        assert store.get(plan_id) is not None
        before_first_write(db, other_request(engine, lambda s: change(s, plan_id)))
        with pytest.raises(expected, match=rf"\b{plan_id}\b"):
            WRITES[write](store, plan_id)


def test_two_deletes_at_once_delete_once(engine: sa.Engine, plan_id: int) -> None:
    read = threading.Barrier(2, timeout=30)

    def delete(_: int) -> bool:
        with session_for(engine) as db:
            store = PlanRepository(db)
            pause_after(store, "get", read)
            assert store.get(plan_id) is not None
            deleted = store.delete(plan_id)
            db.commit()
            return deleted

    results, errors = side_by_side(delete)
    assert sorted(results) + kinds(errors) in ([False, True], [True, "NotFoundError"])
    assert plan_count(engine) == 0


def test_a_write_that_changes_nothing_still_fails_after_another_requests_change(engine: sa.Engine, plan_id: int) -> None:
    """A no-change enable must not go on (and unpause the DAG) after a concurrent disable committed."""
    with session_for(engine) as db:
        store = PlanRepository(db)
        assert store.get(plan_id).enabled  # read at the revision before the disable

        def disable() -> None:
            with session_for(engine) as other:
                PlanRepository(other).update(plan_id, enabled=False, user_id=2, now=NOW)
                other.commit()

        before_first_write(db, disable)
        with pytest.raises(ConflictError):
            store.update(plan_id, enabled=True, user_id=1, now=NOW)
    with session_for(engine) as db:
        assert PlanRepository(db).get(plan_id).enabled is False


def test_a_write_that_changes_nothing_keeps_the_revision(engine: sa.Engine, plan_id: int) -> None:
    with session_for(engine) as db:
        before = PlanRepository(db).get(plan_id)
        after = PlanRepository(db).update(plan_id, enabled=True, user_id=2, now=NOW)
        db.commit()
    assert after.updated_at == before.updated_at and after.updated_by == before.updated_by
