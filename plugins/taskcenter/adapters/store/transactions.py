"""How a request's transaction meets the others': savepoints that hold on SQLite, and what a
database error means for the request that got it.

Both databases the product runs on are used as Airflow configures them: PostgreSQL at READ
COMMITTED, SQLite (WAL) through pysqlite's default transaction handling, which starts a
transaction only before INSERT/UPDATE/DELETE.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

# PostgreSQL SQLSTATEs: the transaction was aborted only because of another one; run again, it works.
_PG_RETRY = {"40001", "40P01"}  # serialization_failure, deadlock_detected
# ... or it collided with another transaction's row: a unique key both inserted, a row it refers to.
_PG_COLLISION = {"23505", "23503"}  # unique_violation, foreign_key_violation
# SQLite primary result codes: SQLITE_BUSY (the busy timeout passed), SQLITE_LOCKED.
_SQLITE_RETRY = {5, 6}
# SQLite extended codes: SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY, _FOREIGNKEY.
_SQLITE_COLLISION = {2067, 1555, 787}


class DbFailure(enum.Enum):
    """What a database error that reached a request means for it."""

    RETRY = "retry"  # deadlock, serialization failure, SQLite busy, a dropped connection: rolled back
    COLLISION = "collision"  # a concurrent transaction wrote the same key first: rolled back
    OVERLOADED = "overloaded"  # no connection free in the pool within its timeout


def classify(error: BaseException) -> DbFailure | None:
    """The kind of a database error (or of the one it wraps); None for anything else, a bug included."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError):
            return DbFailure.OVERLOADED
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated:
                return DbFailure.RETRY
            return _classify_driver_error(current.orig)
        current = current.__cause__ or current.__context__
    return None


def _classify_driver_error(orig: BaseException | None) -> DbFailure | None:
    state = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)  # psycopg2, psycopg 3
    if state is not None:
        return DbFailure.RETRY if state in _PG_RETRY else DbFailure.COLLISION if state in _PG_COLLISION else None
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        if code & 0xFF in _SQLITE_RETRY:
            return DbFailure.RETRY
        return DbFailure.COLLISION if code in _SQLITE_COLLISION else None
    return None


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """`session.begin_nested()` that is a savepoint inside the request's transaction on SQLite too.

    pysqlite does not begin a transaction before SAVEPOINT, so a savepoint taken before the
    request's first write starts the transaction itself and its RELEASE commits it: whatever the
    request stored until then would stay even if the request failed afterwards. So on SQLite the
    transaction is begun first. (A plain BEGIN takes no lock; the write inside takes SQLite's
    write lock as any write does.)
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            connection.exec_driver_sql("BEGIN")
    with session.begin_nested():
        yield


def dialect_insert(dialect: str) -> Any:
    """INSERT with ON CONFLICT: both databases the product runs on have it."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise NotImplementedError(f"taskcenter runs on SQLite and PostgreSQL, not on {dialect}")
