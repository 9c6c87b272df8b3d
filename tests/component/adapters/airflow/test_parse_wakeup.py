"""A committed parse request wakes the plan-processor's loop; a rolled-back one does not.

On PostgreSQL through LISTEN/NOTIFY (delivered by the server at commit), on SQLite through a
datagram sent after the commit. The processor's selector waits on `fileno()`.
"""

from __future__ import annotations

import selectors
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.parse_wakeup import DatagramWakeup, PostgresWakeup, Wakeup, open_wakeup, wake_on_commit
from tests.unit.adapters.airflow.wakeup_helpers import woken

pytest_plugins = ("tests.component.database_fixtures",)  # `engine`: SQLite and PostgreSQL


@pytest.fixture
def listening(engine: sa.Engine, tmp_path: Path) -> Iterator[Wakeup]:
    wakeup = open_wakeup(url=engine.url.render_as_string(hide_password=False), bundle_path=tmp_path)
    assert wakeup is not None
    assert isinstance(wakeup, PostgresWakeup if engine.dialect.name == "postgresql" else DatagramWakeup)
    try:
        yield wakeup
    finally:
        wakeup.close()


def test_a_commit_wakes_the_processor_and_a_rollback_does_not(
    engine: sa.Engine, listening: Wakeup, tmp_path: Path
) -> None:
    with Session(engine) as session:
        wake_on_commit(session, bundle_path=tmp_path)
        assert not woken(listening, timeout=0.3)  # not before the commit: the request is not visible yet
        session.commit()
    assert woken(listening, timeout=5)
    assert not woken(listening, timeout=0.3)  # drained: one wake-up per commit

    with Session(engine) as session:
        wake_on_commit(session, bundle_path=tmp_path)
        session.rollback()
    assert not woken(listening, timeout=0.5)


def test_a_broken_postgres_channel_says_so_for_the_processor_to_reopen_it(
    postgres_database: str | None, tmp_path: Path
) -> None:
    assert postgres_database is not None, "the PostgreSQL server of the test machine is not answering"
    wakeup = open_wakeup(url=postgres_database, bundle_path=tmp_path)
    assert isinstance(wakeup, PostgresWakeup)
    engine = sa.create_engine(postgres_database)
    try:
        with engine.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = :q AND pid <> "
                    "pg_backend_pid()"
                ),
                {"q": "LISTEN taskcenter_plan_parse"},
            )
            connection.commit()
        with selectors.DefaultSelector() as selector:
            selector.register(wakeup, selectors.EVENT_READ)
            assert selector.select(timeout=5)  # the ended connection is readable: the loop calls drain
        assert wakeup.drain() is False
    finally:
        wakeup.close()
        engine.dispose()
