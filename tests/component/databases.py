"""taskcenter's tables on a real SQLite file and on a real PostgreSQL server, for concurrency tests.

Concurrency bugs live in what the database does when two transactions meet (SQLite's single
writer, PostgreSQL's row locks and unique-index waits), so these tests use both, configured as
Airflow configures its metadata DB: SQLite in WAL mode with foreign keys on and pysqlite's default
transaction handling; PostgreSQL at READ COMMITTED. The PostgreSQL variant needs a server at
127.0.0.1:5432 (user postgres, trust auth; always there in CI) and is skipped without one. The
fixtures are in `tests.component.database_fixtures`: a test module names it in `pytest_plugins`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

T = TypeVar("T")


def sqlite_engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _as_airflow_does(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def session_for(engine: sa.Engine) -> Session:
    """A session as Airflow's api-server makes one per request."""
    return Session(engine, autoflush=False, expire_on_commit=False)


def side_by_side(
    work: Callable[[int], T], count: int = 2, *, timeout: float = 60
) -> tuple[list[T], list[BaseException]]:
    """Run `work(0)`, `work(1)`, ... each in a thread of its own, released together: (results, errors)."""
    start = threading.Barrier(count, timeout=timeout)
    results: list[T] = []
    errors: list[BaseException] = []

    def one(index: int) -> None:
        try:
            start.wait()
            results.append(work(index))
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    return results, errors


def after_first_call(target: Any, names: str | Sequence[str], action: Callable[[], Any]) -> None:
    """Run `action` once per thread, right after its first call of any of `target`'s methods `names`."""
    called = threading.local()
    for name in [names] if isinstance(names, str) else names:
        original = getattr(target, name)

        def wrapped(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            result = _original(*args, **kwargs)
            if not getattr(called, "done", False):
                called.done = True
                action()
            return result

        setattr(target, name, wrapped)


def pause_after(target: Any, names: str | Sequence[str], barrier: threading.Barrier) -> None:
    """Make each thread wait for the others after its first call of `target`'s methods `names`.

    Placed after a read and before the first write, it makes concurrent requests read the same
    state before any of them writes: the interleaving that loses updates or collides on keys.
    """
    after_first_call(target, names, barrier.wait)


def kinds(errors: Sequence[BaseException]) -> list[str]:
    return sorted(type(e).__name__ for e in errors)


@dataclass
class Statements:
    """The SQL statements an engine ran, each with its number of bound parameters."""

    ran: list[tuple[str, int]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.ran)

    @property
    def most_parameters(self) -> int:
        return max((n for _, n in self.ran), default=0)

    def __str__(self) -> str:
        return "\n".join(f"[{n} parameters] {text}" for text, n in self.ran)


@contextmanager
def statements(engine: sa.Engine) -> Iterator[Statements]:
    """Record what `engine` sends to the database meanwhile (as the DBAPI gets it: IN lists expanded)."""
    seen = Statements()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        if executemany:
            parameters = parameters[0] if parameters else ()
        seen.ran.append((" ".join(statement.split()), len(parameters or ())))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# -- plans and their DAG runs, written directly (for the list queries) -------------------------

RUN_STATES = ("success", "failed", "running", "queued")
LIST_GROUPS = ("NOTEBOOK", "DATASET", "APP_REFRESH", "PIPELINE")


@dataclass(frozen=True)
class RunRow:
    """A DAG run as inserted: what the job status of it (and of its plan) derives from."""

    id: int
    plan_id: int
    run_id: str
    state: str
    cancelled: bool
    clear_number: int = 0


def add_run(db: Session, dag_id: str, *, run_id: str, state: str) -> int:
    """A DAG run row as Airflow's scheduler writes one (only the columns the lists read)."""
    from datetime import datetime, timezone

    from airflow.models.dagrun import DagRun

    table = DagRun.__table__
    now = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    return db.execute(
        sa.insert(table)
        .values(
            dag_id=dag_id, run_id=run_id, state=state, run_type="manual", run_after=now, queued_at=now, clear_number=0
        )
        .returning(table.c.id)
    ).scalar_one()


def add_plans_with_runs(db: Session, *, first: int, count: int) -> list[RunRow]:
    """Plans `first` .. `first + count - 1` through the store, each with 0 to 3 runs in mixed states
    (some failed ones cancelled), and a hand-written DAG's run in between; returns the plans' runs.

    Plan i: group `LIST_GROUPS[i % 4]`, entity key `i` (`9-i` for a dataset), title `Plan i`,
    entity creator 1 + i % 3.
    """
    from datetime import datetime, timezone

    from taskcenter.adapters.airflow.naming import dag_id_for
    from taskcenter.adapters.store.cancels import CancelRepository
    from taskcenter.adapters.store.plans import PlanRepository
    from taskcenter.domain.plans import EntityRef, ExecDetail

    now = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    store, cancels = PlanRepository(db), CancelRepository(db)
    runs: list[RunRow] = []
    for i in range(first, first + count):
        group = LIST_GROUPS[i % len(LIST_GROUPS)]
        plan = store.create(
            ref=EntityRef(entity_group=group, entity_key=f"9-{i}" if group == "DATASET" else str(i)),
            exec_detail=ExecDetail(job_class="com.example.Job"),
            enabled=True,
            items=(),
            title=f"Plan {i}",
            entity_created_by=1 + i % 3,
            user_id=1,
            now=now,
        )
        assert plan is not None
        for n in range(i % 4):
            state = RUN_STATES[(i // 4 + n) % len(RUN_STATES)]
            run_id = f"manual__{i}_{n}"
            pk = add_run(db, dag_id_for(plan.id), run_id=run_id, state=state)
            run = RunRow(id=pk, plan_id=plan.id, run_id=run_id, state=state, cancelled=state == "failed" and i % 3 == 0)
            if run.cancelled:
                cancels.record([run], plan_id=plan.id, user_id=1, now=now, stopped=[pk])
            runs.append(run)
        if i % 7 == 0:
            add_run(db, "hand_written_etl", run_id=f"scheduled__{i}", state="success")
    return runs


def assert_reads_do_not_grow(
    engine: sa.Engine,
    queries: dict[str, Any],
    read: Callable[[sa.Engine, Any], Statements],
    *,
    max_parameters: int,
    statements_each: int | None = None,
) -> None:
    """O(page): `read` runs the same statements for 300 plans (with runs) as for 20, none with more
    than `max_parameters` bound parameters (a list of every plan or run would have hundreds)."""
    with session_for(engine) as db:
        add_plans_with_runs(db, first=0, count=20)
        db.commit()
    small = {name: read(engine, query) for name, query in queries.items()}
    with session_for(engine) as db:
        add_plans_with_runs(db, first=20, count=280)
        db.commit()
    for name, query in queries.items():
        large = read(engine, query)
        assert large.count == small[name].count, f"{name}:\n{large}"
        if statements_each is not None:
            assert large.count == statements_each, f"{name}:\n{large}"
        assert large.most_parameters <= max_parameters, f"{name}:\n{large}"


# A list endpoint of one request: (its list method, its `users` method), each taking the query.
ListEndpoints = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def list_and_users_reads(
    engine: sa.Engine, query: Any, endpoints: Callable[[Session], ListEndpoints], *, page: int
) -> Statements:
    """What a list request and its `/users` read: `endpoints(db)` builds the service on a session;
    the listing must hold at most `page` views of `total`."""
    with session_for(engine) as db, statements(engine) as seen:
        list_views, users = endpoints(db)
        listing = list_views(query)
        assert len(listing.views) <= page and listing.total >= len(listing.views)
        users(query)
    return seen
