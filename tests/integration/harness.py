"""Starts a real taskcenter (all Airflow components) on a temporary AIRFLOW_HOME for tests.

It goes through the same launcher as `make run`, on free ports, so several can coexist with a
running `make run`. Every process it starts is stopped by `close()`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from taskcenter.launcher.admin import AdminCredentials, ensure_admin
from taskcenter.launcher.components import AirflowStack, StartupError, migrate, prepare_demo, reconcile
from taskcenter.launcher.home import POSTGRES, SQLITE, HomeSettings, prepare_home
from taskcenter.launcher.postgres import ENGINE_DB
from tests.integration import jobs as test_jobs

REPO = Path(__file__).resolve().parents[2]
ENGINE_CONN_ENV = "AIRFLOW_CONN_TASKCENTER_ENGINE"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_connection_session() -> requests.Session:
    """A session that opens a new connection per request.

    The api-server (uvicorn) closes idle keep-alive connections after 5 s. A pooled connection
    reused at that instant fails with RemoteDisconnected before the server read the request, and
    retrying would be unsafe for POSTs. On loopback a new connection costs well under a millisecond.
    """
    session = requests.Session()
    session.headers["Connection"] = "close"
    return session


@dataclass
class RunningTaskCenter:
    """A started product: its base URL, an admin token and a requests session using it."""

    backend: str
    settings: HomeSettings
    stack: AirflowStack
    credentials: AdminCredentials
    token: str = ""
    http: requests.Session = field(default_factory=fresh_connection_session)
    # The dataset engine (`taskcenter_engine`): the demo's SQLite file, or a PostgreSQL database.
    engine_url: str = ""
    # What the supervisor did (a component stopped, started again), for tests and failure reports.
    restarts: list[str] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _watching: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def home(self) -> Path:
        return self.settings.home

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A call with the admin token (pass `headers={}` for none)."""
        headers = kwargs.pop("headers", {"Authorization": f"Bearer {self.token}"})
        return self.http.request(method, self.url(path), headers=headers, timeout=60, **kwargs)

    def fetch_token(self, username: str, password: str) -> str:
        response = self.http.post(
            self.url("/auth/token"), json={"username": username, "password": password}, timeout=30
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def add_dag_file(self, name: str, source: str) -> Path:
        """Write a DAG file into the `dags-folder` bundle and ask the dag-processor to parse it now."""
        add_dag_files(self.settings.dags_folder, self.settings.sql_alchemy_conn, {name: source})
        return self.settings.dags_folder / name

    def wait_for_dag(self, dag_id: str, *, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.request("GET", f"/api/v2/dags/{dag_id}")
            if response.status_code == 200:
                return response.json()
            time.sleep(0.3)
        raise AssertionError(f"DAG {dag_id} not parsed within {timeout}s\n{self.component_logs()}")

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        response = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "run_after", "limit": 100})
        if response.status_code == 404:  # not parsed yet
            return []
        response.raise_for_status()
        return response.json()["dag_runs"]

    def start_supervision(self) -> None:
        """Restart dead components as `make run` does, in a thread, until `stop()`."""
        self.stack.report = self.restarts.append
        self._watching = threading.Thread(
            target=self.stack.watch, args=(self._stopping,), name="supervisor", daemon=True
        )
        self._watching.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._watching is not None:
            self._watching.join(timeout=10)
        self.stack.stop()

    def component_logs(self, lines: int = 40) -> str:
        return log_tails(self.stack.log_dir, lines=lines)


def log_tails(log_dir: Path, *, lines: int = 40) -> str:
    """The last lines of every component's log, for a failure's report."""
    parts = []
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"==> {log.name} <==\n" + "\n".join(tail))
    return "\n".join(parts)


def add_dag_files(dags_folder: Path, sql_alchemy_conn: str, files: dict[str, str]) -> None:
    """Write DAG files into the `dags-folder` bundle (atomically) and ask the dag-processor to parse
    them now (a pending request for the same file is replaced)."""
    for name, source in files.items():
        tmp = (dags_folder / name).with_suffix(".tmp")
        tmp.write_text(source)
        tmp.replace(dags_folder / name)
    engine = sa.create_engine(sql_alchemy_conn)
    try:
        with engine.begin() as conn:
            for name in files:
                key = hashlib.md5(f"dags-folder:{name}".encode()).hexdigest()  # Airflow's own key
                conn.execute(sa.text("DELETE FROM dag_priority_parsing_request WHERE id = :id"), {"id": key})
                conn.execute(
                    sa.text(
                        "INSERT INTO dag_priority_parsing_request (id, bundle_name, relative_fileloc) VALUES "
                        "(:id, 'dags-folder', :path)"
                    ),
                    {"id": key, "path": name},
                )
    finally:
        engine.dispose()


def wait_for(what: str, probe: Callable[[], Any], *, timeout: float, tc: Any, interval: float = 0.5) -> Any:
    """`probe()`'s first truthy answer, polled every `interval` s; failing with the components' logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout}s\n{tc.component_logs()}")


def ok(response: requests.Response) -> dict[str, Any]:
    """The body of a successful compat answer (asserting the envelope)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0 and body["msg"] == "success" and body["version"], body
    return body


def delete_all_plans(tc: RunningTaskCenter) -> None:
    """Delete every plan through the API (dependents first), so tests start from none."""
    for _ in range(5):
        plans = ok(tc.request("GET", "/api/schedules", params={"limit": 1000}))["data"]
        if not plans:
            return
        refused = []
        for plan in sorted(plans, key=lambda p: -p["id"]):
            answer = tc.request("DELETE", f"/api/schedules/{plan['id']}")
            if answer.status_code != 200:
                refused.append(f"{plan['id']}: {answer.status_code} {answer.text[:300]}")
    raise AssertionError("plans left over after cleanup: " + "; ".join(refused))


def start_taskcenter(
    *, backend: str, home: Path, db_url: str | None = None, extra: dict[str, dict[str, str]] | None = None
) -> RunningTaskCenter:
    """A started product: `backend` "sqlite" (a file), "postgres" (the embedded server, as `make run`)
    or, with `db_url`, an external database; `extra` adds airflow.cfg options."""
    taskcenter_options = {
        "job_runners": json.dumps(test_jobs.RUNNERS),
        "job_classes": json.dumps(test_jobs.JOB_CLASSES),
        "retry_delay_seconds": "1",
    }
    options = {section: dict(values) for section, values in (extra or {}).items()}
    options["taskcenter"] = {**taskcenter_options, **options.get("taskcenter", {})}
    # Ordinary DAG files re-parsed every 10 s (Airflow: 30 s), so a test sees that timer act
    # (and that the plans' own processor ignores it: test_plan_parsing).
    options["dag_processor"] = {"min_file_process_interval": "10", **options.get("dag_processor", {})}
    settings = HomeSettings(
        home=home,
        port=free_port(),
        host="127.0.0.1",
        database=SQLITE if backend == "sqlite" else POSTGRES,
        db_url=db_url,
        examples_dir=REPO / "dags",
        worker_log_port=free_port(),
        trigger_log_port=free_port(),
        smtp_port=free_port(),
        extra=options,
    )
    # Task processes import the test job runners from this repository.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))
    # On PostgreSQL the dataset engine is a PostgreSQL database too: the embedded server's
    # (the demo's connection) or, on an external server, a database beside the metadata DB that
    # every component sees from the environment, before the demo's connection.
    engine_url = f"sqlite:///{(home / 'taskcenter' / 'engine.db').resolve()}"
    os.environ.pop(ENGINE_CONN_ENV, None)
    if db_url is not None and db_url.startswith("postgresql"):
        engine_url = engine_url_for(db_url)
        os.environ[ENGINE_CONN_ENV] = engine_url
    elif (server := settings.embedded_postgres) is not None:
        engine_url = server.url(ENGINE_DB, driver="postgresql")
    prepare_home(settings)
    credentials = AdminCredentials(username="admin", password=secrets.token_urlsafe(16), generated=True)
    running = RunningTaskCenter(
        backend=backend, settings=settings, stack=AirflowStack(settings), credentials=credentials, engine_url=engine_url
    )
    logs = home / "logs" / "components"
    try:
        running.stack.start_database()
        migrate(settings, log_file=logs / "db-migrate.log")
        reconcile(settings, log_file=logs / "reconcile.log")
        prepare_demo(settings, log_file=logs / "demo.log")
        ensure_admin(env=settings.environ(), cwd=home, credentials=credentials, log_file=logs / "admin.log")
        running.stack.start()
        running.stack.wait_until_healthy(timeout=240)
        running.token = running.fetch_token(credentials.username, credentials.password)
    except (StartupError, RuntimeError, requests.RequestException) as exc:
        text = running.component_logs()
        running.stack.stop()
        raise StartupError(f"{exc}\n{text}") from exc
    running.start_supervision()
    return running


def engine_url_for(db_url: str) -> str:
    """The dataset engine's database that goes with a metadata database: `<name>_engine`."""
    url = sa.engine.make_url(db_url)
    return url.set(drivername="postgresql", database=f"{url.database}_engine").render_as_string(hide_password=False)
