"""Waking the plan-processor the moment a plan's parse request is committed.

Airflow's DAG processor looks for parse requests once per loop, and an idle loop sleeps up to a
second in `select()`: a change waited 0.5 s on average (p95 ~1 s) before its parse even began.
Polling faster would repeat the loop's per-file bookkeeping (O(plans)) many times a second, so the
plan-processor instead adds one more descriptor to the loop's selector, which becomes readable when
a request commits:

- PostgreSQL: `LISTEN`/`NOTIFY`. The api-server calls `pg_notify` in the request's transaction, and
  PostgreSQL delivers it only when (and if) that transaction commits, on any host: a rollback wakes
  nobody, and a wake-up is never seen before the request's row is.
- SQLite (one host by nature): a datagram on a Linux abstract socket named after the plans' bundle
  path, sent after the commit.

A lost wake-up only costs the old delay: the loop still polls the requests every second.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "taskcenter_plan_parse"


def _socket_address(bundle_path: Path) -> str:
    """An abstract socket (leading NUL: no file, no path length limit) per plans folder."""
    digest = hashlib.sha256(str(bundle_path.resolve()).encode()).hexdigest()[:24]
    return f"\0taskcenter-plan-parse-{digest}"


def wake_on_commit(session: Session, *, bundle_path: Path) -> None:
    """Wake the plan-processor once this session's transaction commits (never if it rolls back)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, "")))
        return
    address = _socket_address(bundle_path)
    event.listen(session, "after_commit", lambda _session: send_datagram(address), once=True)


def send_datagram(address: str) -> None:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            sender.setblocking(False)
            sender.sendto(b"1", address)
    except OSError:  # no plan-processor on this host (yet), or its queue is full: it polls anyway
        pass


class Wakeup(Protocol):
    """A descriptor for the processor's selector; `drain` empties it, False once it is broken."""

    def fileno(self) -> int: ...
    def drain(self) -> bool: ...
    def close(self) -> None: ...


class PostgresWakeup:
    def __init__(self, connection: Any, driver_connection: Any) -> None:
        self._connection = connection  # SQLAlchemy's wrapper: closing it closes the connection
        self._driver = driver_connection

    @classmethod
    def open(cls, url: str) -> PostgresWakeup | None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        connection = create_engine(url, poolclass=NullPool).raw_connection()
        driver = connection.driver_connection
        if driver is None or not type(driver).__module__.startswith("psycopg2"):
            connection.close()
            log.info("No parse wake-ups with this PostgreSQL driver; the plan-processor polls each second")
            return None
        driver.set_session(autocommit=True)
        with driver.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        return cls(connection, driver)

    def fileno(self) -> int:
        return int(self._driver.fileno())

    def drain(self) -> bool:
        try:
            self._driver.poll()
            if not self._driver.notifies:
                # Readable without a notification: maybe the server ended the connection, which
                # psycopg2's poll() does not report; a query does.
                with self._driver.cursor() as cursor:
                    cursor.execute("SELECT 1")
        except Exception:  # the server went away: the processor falls back to polling and reopens
            log.warning("The parse wake-up connection broke; polling until it is reopened", exc_info=True)
            return False
        self._driver.notifies.clear()
        return True

    def close(self) -> None:
        try:
            self._connection.close()
        except Exception:
            pass


class DatagramWakeup:
    def __init__(self, receiver: socket.socket) -> None:
        self._receiver = receiver

    @classmethod
    def open(cls, bundle_path: Path) -> DatagramWakeup:
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.setblocking(False)
        receiver.bind(_socket_address(bundle_path))
        return cls(receiver)

    def fileno(self) -> int:
        return self._receiver.fileno()

    def drain(self) -> bool:
        while True:
            try:
                self._receiver.recv(64)
            except BlockingIOError:
                return True
            except OSError:
                return False

    def close(self) -> None:
        self._receiver.close()


def open_wakeup(*, url: str, bundle_path: Path) -> Wakeup | None:
    """The plan-processor's end for this metadata DB, or None (then it polls each second)."""
    try:
        if url.startswith("postgresql"):
            return PostgresWakeup.open(url)
        if url.startswith("sqlite"):
            return DatagramWakeup.open(bundle_path)
    except Exception:
        log.warning("Could not open the parse wake-up channel; the plan-processor polls each second", exc_info=True)
    return None
