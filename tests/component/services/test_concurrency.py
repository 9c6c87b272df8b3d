"""Two requests on one plan at the same moment, on SQLite and PostgreSQL: each is served or gets a
domain error the client can act on (409: retry; 404: gone), never another exception (a 500).

Both requests read the plan before either writes (`pause_after`), the interleaving that collides.
The stores are the real ones; only Airflow (DAGs, runs) is a double.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskcenter.adapters.store.cancels import CancelRepository
from taskcenter.adapters.store.models import RunCancelRow
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.errors import ConflictError, NotFoundError
from taskcenter.domain.runs import CancelStart
from taskcenter.services.contexts import ContextService
from tests.component.databases import after_first_call, kinds, pause_after, session_for, side_by_side
from tests.unit.services.conftest import (
    ADMIN,
    SETTINGS,
    FakeDags,
    PlanServices,
    cron,
    plan_ports,
    update_command,
    write_command,
)

BODY = {"entityGroup": "NOTEBOOK", "entityKey": "1"}
RUN_NOW = {**BODY, "planItems": [{"triggerType": "ONCE"}]}

pytest_plugins = ("tests.component.database_fixtures",)  # `engine`: SQLite and PostgreSQL


def plans(db: Session, dags: FakeDags, store: PlanRepository | None = None) -> PlanServices:
    return PlanServices(plan_ports(db, dags, store=store or PlanRepository(db), cancels=CancelRepository(db)))


def stored_plans(engine: sa.Engine) -> list[Any]:
    with session_for(engine) as db:
        return PlanRepository(db).all()


@pytest.fixture
def dags() -> FakeDags:
    return FakeDags()


@pytest.fixture
def plan_id(engine: sa.Engine, dags: FakeDags) -> int:
    with session_for(engine) as db:
        return plans(db, dags).write_plan(write_command({**BODY, "planItems": [cron("0 0 9 * * ?")]}), ADMIN).plan.id


def at_once(
    engine: sa.Engine, dags: FakeDags, *requests: Callable[[PlanServices], Any]
) -> tuple[list[Any], list[BaseException]]:
    """Run the requests in threads of their own, each in its own session, all reading before any
    writes: (the indexes of the requests served, the errors of the others)."""
    read = threading.Barrier(len(requests), timeout=30)

    def serve(index: int) -> int:
        with session_for(engine) as db:
            store = PlanRepository(db)
            pause_after(store, ("get", "get_by_entity"), read)
            try:
                requests[index](plans(db, dags, store))
            except BaseException:
                db.rollback()  # what the request's session does with a failed request
                raise
            return index

    return side_by_side(serve, len(requests))


REQUESTS: dict[str, Callable[[PlanServices, int], Any]] = {
    "update": lambda s, i: s.update_plan(i, update_command({"planItems": [cron("0 0 8 * * ?")]}), ADMIN),
    "replace": lambda s, i: s.write_plan(write_command({**BODY, "planItems": [cron("0 0 7 * * ?")]}), ADMIN),
    "enable": lambda s, i: s.set_enabled(i, enabled=True, caller=ADMIN),
    "disable": lambda s, i: s.set_enabled(i, enabled=False, caller=ADMIN),
    "run-now": lambda s, i: s.write_plan(write_command(RUN_NOW), ADMIN),
    "delete": lambda s, i: s.delete_plan(i),
}
PAIRS = [
    ("update", "update"),
    ("replace", "update"),
    ("disable", "enable"),
    ("run-now", "run-now"),
    ("run-now", "disable"),
    ("update", "delete"),
    ("replace", "delete"),
    ("run-now", "delete"),
    ("disable", "delete"),
    ("delete", "delete"),
]


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
def test_two_writes_of_one_plan_at_once_are_served_or_conflict(
    engine: sa.Engine, dags: FakeDags, plan_id: int, first: str, second: str
) -> None:
    names = (first, second)
    served, errors = at_once(engine, dags, *(lambda s, name=name: REQUESTS[name](s, plan_id) for name in names))
    assert served, errors  # one of them is always served
    for error in errors:
        # 409: retry; 404 only for a request naming the plan by id that a served delete removed
        assert isinstance(error, ConflictError) or (isinstance(error, NotFoundError) and "delete" in names), error
    deleted = any(names[i] == "delete" for i in served)
    assert len(stored_plans(engine)) == (0 if deleted else 1)


def test_two_creates_of_one_entity_at_once_make_one_plan(engine: sa.Engine, dags: FakeDags) -> None:
    body = {**BODY, "planItems": [cron("0 0 9 * * ?")]}
    served, errors = at_once(
        engine,
        dags,
        lambda s: s.write_plan(write_command(body), ADMIN),
        lambda s: s.write_plan(write_command(body), ADMIN),
    )
    assert kinds(errors) in ([], ["ConflictError"])
    assert len(stored_plans(engine)) == 1


@pytest.mark.parametrize(
    ("request_name", "expected"),
    [("update", NotFoundError), ("disable", NotFoundError), ("run-now", ConflictError), ("replace", ConflictError)],
)
def test_a_write_of_a_plan_deleted_after_it_was_read_is_a_domain_error(
    engine: sa.Engine, dags: FakeDags, plan_id: int, request_name: str, expected: type
) -> None:
    """By id: 404; by entity (POST /api/schedules): 409, since sent again it creates the plan."""

    def delete_it() -> None:
        with session_for(engine) as other:
            plans(other, FakeDags()).delete_plan(plan_id)

    with session_for(engine) as db:
        store = PlanRepository(db)
        after_first_call(store, ("get", "get_by_entity"), delete_it)
        with pytest.raises(expected):
            REQUESTS[request_name](plans(db, dags, store), plan_id)
        db.rollback()
    assert stored_plans(engine) == []


@dataclass
class Run:
    id: int
    plan_id: int
    run_id: str
    state: str = "running"
    clear_number: int = 0


class RunningOnce:
    """One running run of the plan, which nothing has started of yet. With `claims`, a cancel
    request ends it once, as the real adapter's conditional claim does; without, every cancel
    that saw it running ends it (again)."""

    def __init__(self, run: Run, *, claims: bool) -> None:
        self.run = run
        self.claims = claims
        self.failed: list[str] = []
        self._lock = threading.Lock()

    def unfinished(self, plan_id: int) -> list[Run]:
        return [self.run] if self.run.state == "running" else []

    def request_cancel(self, plan_id: int, run_id: str, *, by: str, at: datetime) -> CancelStart | None:
        with self._lock:
            if self.claims and self.run.state != "running":
                return None
            self.run.state = "failed"
            self.failed.append(run_id)
            return CancelStart(ended_run=True, stopped_tasks=1)


@pytest.mark.parametrize("claims", [True, False], ids=["claimed", "unclaimed"])
def test_two_cancels_of_one_plan_at_once_both_succeed_with_one_record(
    engine: sa.Engine, dags: FakeDags, plan_id: int, claims: bool
) -> None:
    runs = RunningOnce(Run(id=41, plan_id=plan_id, run_id="manual__1"), claims=claims)
    read = threading.Barrier(2, timeout=30)
    pause_after(runs, "unfinished", read)

    def cancel(index: int) -> int:
        with session_for(engine) as db:
            contexts = ContextService(plan_ports(db, dags, runs=runs, cancels=CancelRepository(db)), settings=SETTINGS)
            return contexts.cancel_plan(plan_id, ADMIN)

    results, errors = side_by_side(cancel)
    assert errors == []
    assert sorted(results) == ([0, 1] if claims else [1, 1])
    with session_for(engine) as db:
        assert db.scalar(select(func.count()).select_from(RunCancelRow)) == 1
        assert db.scalar(select(RunCancelRow.outcome).where(RunCancelRow.dag_run_id == 41)) == "stopped"
