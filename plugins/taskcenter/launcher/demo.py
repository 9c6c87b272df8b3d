"""The embedded default's demo world: a source database, the dataset engine, and their connections.

Every job type of the demo catalog runs right after `make run`: the demo source (orders and
customers in a SQLite file) feeds the datasets, the pipeline and the sync project; the dataset
engine is a database of the embedded PostgreSQL server (a SQLite file on a SQLite home); the sync
target is a SQLite file; e-mail goes to the local mail catcher. Each is an
ordinary Airflow connection, created once and then left to the user: pointing one at a real
server in the Airflow UI is how a deployment leaves the demo behind.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypedDict

SOURCE_CONN = "taskcenter_demo_source"
TARGET_CONN = "taskcenter_demo_target"
ENGINE_CONN = "taskcenter_engine"
SMTP_CONN = "taskcenter_smtp"
CITIES = ("Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Hangzhou", "Chengdu")
PRODUCTS = ("notebook", "monitor", "keyboard", "mouse", "headset", "dock")


class ConnectionFields(TypedDict, total=False):
    """Keyword arguments of Airflow's `Connection` that the demo connections set."""

    conn_type: str
    host: str
    login: str
    password: str
    schema: str
    port: int
    description: str
    extra: str


def postgres_connection(url: str) -> ConnectionFields:
    """An Airflow connection's fields for a PostgreSQL URL (`postgresql://user:pw@host:port/db`)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    fields: ConnectionFields = {
        "conn_type": "postgres",
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
    }
    if parsed.username:
        fields["login"] = parsed.username
    if parsed.password:
        fields["password"] = str(parsed.password)
    if parsed.database:
        fields["schema"] = parsed.database
    return fields


@dataclass(frozen=True, kw_only=True)
class DemoPaths:
    home: Path

    @property
    def folder(self) -> Path:
        return self.home / "taskcenter"

    @property
    def source(self) -> Path:
        return self.folder / "demo" / "source.db"

    @property
    def target(self) -> Path:
        return self.folder / "demo" / "target.db"

    @property
    def engine(self) -> Path:
        return self.folder / "engine.db"

    @property
    def results(self) -> Path:
        return self.folder / "results"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"


def create_demo_source(path: Path, *, customers: int = 24, orders: int = 240) -> bool:
    """Create the demo source database once (deterministic rows); False when it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'orders'").fetchone():
            return False
        rng = random.Random(20200303)
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL)")
        db.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),"
            " product TEXT NOT NULL, amount REAL NOT NULL, ordered_at TEXT NOT NULL)"
        )
        db.executemany(
            "INSERT INTO customers VALUES (?, ?, ?)",
            [(i, f"customer {i:02d}", CITIES[i % len(CITIES)]) for i in range(1, customers + 1)],
        )
        start = datetime(2020, 3, 1)
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
            [
                (
                    i,
                    rng.randint(1, customers),
                    rng.choice(PRODUCTS),
                    round(rng.uniform(5, 500), 2),
                    (start + timedelta(hours=7 * i)).isoformat(sep=" "),
                )
                for i in range(1, orders + 1)
            ],
        )
    return True


def demo_connections(
    paths: DemoPaths,
    *,
    smtp_port: int,
    engine_socket: Path | None = None,
    engine_url: str | None = None,
    smtp_host: str = "127.0.0.1",
) -> dict[str, ConnectionFields]:
    """The demo's connections. The dataset engine: a SQLite file, the embedded server's socket, or
    a PostgreSQL server by URL (a cluster, whose hosts share no disk)."""
    sqlite: ConnectionFields = {"conn_type": "sqlite"}
    engine: ConnectionFields = {**sqlite, "host": str(paths.engine)}
    if engine_socket is not None:
        from taskcenter.launcher.postgres import ENGINE_DB, SUPERUSER

        engine = {"conn_type": "postgres", "host": str(engine_socket), "login": SUPERUSER, "schema": ENGINE_DB}
    if engine_url is not None:
        engine = postgres_connection(engine_url)
    return {
        SOURCE_CONN: {**sqlite, "host": str(paths.source), "description": "taskcenter demo source database"},
        TARGET_CONN: {**sqlite, "host": str(paths.target), "description": "taskcenter demo sync target"},
        ENGINE_CONN: {**engine, "description": "taskcenter dataset engine"},
        SMTP_CONN: {
            "conn_type": "smtp",
            "host": smtp_host,
            "port": smtp_port,
            "description": "taskcenter local mail catcher (messages kept in the home's outbox/)",
            "extra": json.dumps({"disable_ssl": True, "disable_tls": True, "from_email": "taskcenter@localhost"}),
        },
    }


def ensure_demo_connections(
    paths: DemoPaths,
    *,
    smtp_port: int,
    engine_socket: Path | None = None,
    engine_url: str | None = None,
    smtp_host: str = "127.0.0.1",
) -> list[str]:
    """Create the demo connections that do not exist yet (needs Airflow's DB); return their ids.

    An existing connection is kept as the user left it, except that the mail catcher's port
    follows this start when the SMTP connection still points at loopback.
    """
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    created: list[str] = []
    with create_session() as session:
        wanted = demo_connections(
            paths, smtp_port=smtp_port, engine_socket=engine_socket, engine_url=engine_url, smtp_host=smtp_host
        )
        for conn_id, fields in wanted.items():
            existing = session.query(Connection).filter(Connection.conn_id == conn_id).one_or_none()
            if existing is None:
                session.add(Connection(conn_id=conn_id, **fields))
                created.append(conn_id)
            elif conn_id == SMTP_CONN and existing.host in ("127.0.0.1", "localhost") and existing.port != smtp_port:
                existing.port = smtp_port
    return created


def prepare_demo(
    home: Path,
    *,
    smtp_port: int,
    engine_socket: Path | None = None,
    engine_url: str | None = None,
    smtp_host: str = "127.0.0.1",
) -> list[str]:
    paths = DemoPaths(home=home)
    for folder in (paths.results, paths.outbox, paths.target.parent):
        folder.mkdir(parents=True, exist_ok=True)
    create_demo_source(paths.source)
    return ensure_demo_connections(
        paths, smtp_port=smtp_port, engine_socket=engine_socket, engine_url=engine_url, smtp_host=smtp_host
    )
