"""What a database error means for a request, from real errors of SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from taskcenter.adapters.store.transactions import DbFailure, classify
from tests.component.databases import side_by_side

TABLE = sa.Table(
    "probe",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(16), nullable=False),
    sa.Column("parent", sa.Integer, sa.ForeignKey("probe.id")),
)

pytest_plugins = ("tests.component.database_fixtures",)  # `engine`: SQLite and PostgreSQL


@pytest.fixture
def probe(engine: sa.Engine) -> sa.Engine:
    TABLE.drop(engine, checkfirst=True)
    TABLE.create(engine)
    with engine.begin() as conn:
        conn.execute(TABLE.insert(), [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    return engine


def error_of(work: Callable[[], object]) -> BaseException:
    with pytest.raises(sa.exc.SQLAlchemyError) as raised:
        work()
    return raised.value


def insert(engine: sa.Engine, **row: object) -> Callable[[], object]:
    def run() -> None:
        with engine.begin() as conn:
            conn.execute(TABLE.insert().values(**row))

    return run


def test_key_collisions_are_collisions_and_bugs_are_not(probe: sa.Engine) -> None:
    assert classify(error_of(insert(probe, id=1, name="again"))) is DbFailure.COLLISION  # primary key
    assert (
        classify(error_of(insert(probe, id=3, name="x", parent=99))) is DbFailure.COLLISION
    )  # a row it refers to is gone
    assert classify(error_of(insert(probe, id=4, name=None))) is None  # NOT NULL: a bug, not a race
    assert classify(error_of(lambda: probe.connect().execute(sa.text("SELECT nothing FROM probe")))) is None


def test_a_deadlock_or_a_busy_database_is_worth_running_again(probe: sa.Engine) -> None:
    """PostgreSQL: two transactions update rows 1 and 2 in opposite orders, one is aborted
    (deadlock detected). SQLite: a write while another connection holds the write lock past the
    busy timeout (here 0 s) finds the database locked."""
    if probe.dialect.name == "sqlite":
        impatient = sa.create_engine(probe.url, connect_args={"timeout": 0})
        with probe.connect() as holder:
            holder.execute(TABLE.update().where(TABLE.c.id == 1).values(name="x"))  # holds the write lock
            errors = [error_of(insert(impatient, id=5, name="e"))]
        impatient.dispose()
    else:
        both = threading.Barrier(2, timeout=30)

        def update(order: int) -> None:
            first, second = (1, 2) if order == 0 else (2, 1)
            with probe.connect() as conn:
                conn.execute(TABLE.update().where(TABLE.c.id == first).values(name="x"))
                both.wait()
                conn.execute(TABLE.update().where(TABLE.c.id == second).values(name="y"))
                conn.commit()

        _, errors = side_by_side(update)
    assert errors and all(classify(e) is DbFailure.RETRY for e in errors), errors


def test_a_pool_without_a_free_connection_is_overloaded(probe: sa.Engine) -> None:
    small = sa.create_engine(probe.url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    with small.connect():
        error = error_of(small.connect)
    small.dispose()
    assert classify(error) is DbFailure.OVERLOADED
