"""taskcenter's tables on a real SQLite file and on a real PostgreSQL server, for concurrency tests.

Concurrency bugs live in what the database does when two transactions meet (SQLite's single
writer, PostgreSQL's row locks and unique-index waits), so these tests use both, configured as
Airflow configures its metadata DB: SQLite in WAL mode with foreign keys on and pysqlite's default
transaction handling; PostgreSQL at READ COMMITTED. The PostgreSQL variant needs a server at
127.0.0.1:5432 (user postgres, trust auth; always there in CI) and is skipped without one. The
fixtures are in `tests.unit.database_fixtures`: a test module names it in `pytest_plugins`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
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


def side_by_side(work: Callable[[int], T], count: int = 2, *, timeout: float = 60) -> tuple[list[T], list[BaseException]]:
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
