"""A committed parse request wakes the plan-processor's loop; a rolled-back one does not.

On PostgreSQL through LISTEN/NOTIFY (delivered by the server at commit), on SQLite through a
datagram sent after the commit. The processor's selector waits on `fileno()`.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.parse_wakeup import DatagramWakeup, wake_on_commit
from tests.unit.adapters.airflow.wakeup_helpers import woken


def test_a_wake_up_reaches_only_the_processor_of_its_own_plans_folder(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    wakeup = DatagramWakeup.open(ours)
    try:
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
        with Session(engine) as session:
            session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            wake_on_commit(session, bundle_path=theirs)
            session.commit()
        assert not woken(wakeup, timeout=0.3)
    finally:
        wakeup.close()


def test_without_a_listener_a_commit_still_succeeds(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    with Session(engine) as session:
        session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        wake_on_commit(session, bundle_path=tmp_path)
        session.commit()  # nobody listens on this folder: the datagram is dropped, the commit stands
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0
