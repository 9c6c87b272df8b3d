"""One running cluster (`taskcenter run-cluster`'s topology) for the cluster tests, stopped after them.

Each component is its own host (network namespace, own disk); CeleryExecutor with two schedulers
and two workers on the machine's PostgreSQL (a fresh database) and Redis (a database index of its
own, emptied first). Needs root; elsewhere the cluster tests are skipped with the reason.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.integration.harness import REPO, free_port, fresh_connection_session, log_tails

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/"
BROKER = "redis://127.0.0.1:6379/{index}"


@dataclass
class RunningCluster:
    settings: Any  # taskcenter.launcher.cluster.ClusterSettings
    stack: Any  # taskcenter.launcher.cluster.ClusterStack
    token: str = ""
    http: requests.Session = field(default_factory=fresh_connection_session)
    restarts: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {"Authorization": f"Bearer {self.token}"})
        return self.http.request(method, self.base_url + path, headers=headers, timeout=120, **kwargs)

    def component(self, name: str) -> Any:
        return next(c for c in self.stack.components if c.name == name)

    def component_logs(self, lines: int = 30) -> str:
        return log_tails(self.settings.log_dir, lines=lines)


def _why_no_cluster() -> str | None:
    if os.geteuid() != 0:
        return "the cluster gives each component a network namespace: needs root"
    from taskcenter.launcher.network import unavailable_reason

    return unavailable_reason()


@pytest.fixture(scope="module")
def cluster() -> Iterator[RunningCluster]:
    if reason := _why_no_cluster():
        pytest.skip(reason)
    from taskcenter.cli.run_cluster import start_cluster
    from taskcenter.launcher.admin import PASSWORD_ENV
    from taskcenter.launcher.cluster import ClusterSettings

    name = f"taskcenter_cluster_{uuid.uuid4().hex[:10]}"
    index = random.randrange(8, 16)
    root = Path(tempfile.mkdtemp(prefix="taskcenter-test-cluster-"))
    settings = ClusterSettings(
        root=root,
        db_url=SERVER + name,
        broker_url=BROKER.format(index=index),
        port=free_port(),
        smtp_port=free_port(),
        prefix=f"tct{random.randrange(100, 999)}",
        subnet=IPv4Network(f"10.216.{random.randrange(1, 250)}.0/24"),
        examples_dir=REPO / "dags",
        plugins_dir=REPO / "plugins",
    )
    _empty_broker(settings.broker_url)
    password = uuid.uuid4().hex
    os.environ[PASSWORD_ENV] = password
    stopping = threading.Event()
    with ExitStack() as cleanup:
        cleanup.callback(_drop_databases, settings)
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        try:
            stack = start_cluster(settings, cleanup=cleanup, report=lambda _line: None)
        finally:
            os.environ.pop(PASSWORD_ENV, None)
        running = RunningCluster(settings=settings, stack=stack)
        stack.report = running.restarts.append
        watcher = threading.Thread(target=stack.watch, args=(stopping,), daemon=True, name="cluster-supervisor")
        watcher.start()
        cleanup.callback(watcher.join, 10)
        cleanup.callback(stopping.set)
        answer = running.http.post(
            settings.base_url + "/auth/token", json={"username": "admin", "password": password}, timeout=30
        )
        answer.raise_for_status()
        running.token = answer.json()["access_token"]
        yield running


def _empty_broker(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _drop_databases(settings: Any) -> None:
    admin = sa.create_engine(SERVER + "postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for url in (settings.db_url, settings.engine_url):
                database = sa.make_url(url).database
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()
