"""The compat app's error path: the envelope for every error, keep-alive connections that survive
every error, and requests run again after a transient database error where that is safe.

The app is the real compat app (routes, handlers, `RequestGuard`) behind the real dispatcher;
only authentication and the services are doubles. Connection reuse is checked against uvicorn
(both of its HTTP implementations) on a free port with a raw `http.client` connection: a test
client does not show a closed connection.
"""

from __future__ import annotations

import http.client
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from api_plugin import deps
from api_plugin.app import create_compat_app
from api_plugin.dispatcher import CompatDispatcher
from taskcenter.adapters.airflow.auth import DagAccess
from taskcenter.domain.errors import ConflictError, NotFoundError
from taskcenter.domain.users import Caller

DB_TEXT = "SECRET-DB-TEXT"


def sqlite_error(kind: type[sa.exc.DBAPIError], code: int) -> sa.exc.DBAPIError:
    """A database error as SQLAlchemy raises it (5: SQLITE_BUSY, 2067: UNIQUE, 1299: NOT NULL)."""
    orig = (sqlite3.OperationalError if kind is sa.exc.OperationalError else sqlite3.IntegrityError)(DB_TEXT)
    orig.sqlite_errorcode = code  # type: ignore[attr-defined]
    return kind(f"UPDATE taskcenter_plan -- {DB_TEXT}", {}, orig)


BUSY = lambda: sqlite_error(sa.exc.OperationalError, 5)  # noqa: E731
DUPLICATE = lambda: sqlite_error(sa.exc.IntegrityError, 2067)  # noqa: E731
NOT_NULL = lambda: sqlite_error(sa.exc.IntegrityError, 1299)  # noqa: E731


@dataclass
class Script:
    """What the service double does: raise these errors, one per call, then succeed."""

    errors: list[Callable[[], BaseException]] = field(default_factory=list)
    commit_first: bool = False
    calls: int = 0


class FakeService:
    def __init__(self, scripts: dict[str, Script], commit: Callable[[], None]) -> None:
        self._scripts = scripts
        self._commit = commit

    def _play(self, name: str) -> None:
        script = self._scripts.setdefault(name, Script())
        script.calls += 1
        if script.commit_first:
            self._commit()
        if script.errors:
            raise script.errors.pop(0)()

    def get_plan(self, plan_id: int) -> Any:
        if plan_id == 1:
            raise RuntimeError(f"a bug {DB_TEXT}")
        raise NotFoundError(f"scheduleId: no plan with id {plan_id}", field="scheduleId")

    def users(self, query: Any) -> list[Any]:
        self._play("users")
        return []

    def update_plan(self, plan_id: int, body: Any, caller: Any) -> Any:
        raise ConflictError(f"plan {plan_id} was changed by another request at the same time; read it again and retry")

    def set_enabled(self, plan_id: int, *, enabled: bool, caller: Any) -> None:
        self._play("set_enabled")

    def delete_plan(self, plan_id: int) -> None:
        self._play("delete_plan")


class NoSession:
    def commit(self) -> None:
        pass


@pytest.fixture
def scripts() -> dict[str, Script]:
    return {}


@pytest.fixture
def app(scripts: dict[str, Script], monkeypatch: pytest.MonkeyPatch) -> CompatDispatcher:
    """The compat app behind the dispatcher, as in the api-server, with every caller allowed."""

    def plan_service(request: Request) -> FakeService:
        return FakeService(scripts, deps.committing(NoSession(), request))  # type: ignore[arg-type]

    monkeypatch.setattr(DagAccess, "_is_authorized", staticmethod(lambda *a, **k: True))
    compat = create_compat_app()
    compat.dependency_overrides[deps.current_caller] = lambda: Caller(user_id=1, name="admin")
    compat.dependency_overrides[deps.plan_targets] = lambda: None
    compat.dependency_overrides[deps.plan_views] = plan_service
    compat.dependency_overrides[deps.plan_writes] = plan_service
    return CompatDispatcher(FastAPI(), compat_app=compat)  # FastAPI(): Airflow's own app


@pytest.fixture
def client(app: CompatDispatcher) -> TestClient:
    return TestClient(app, raise_server_exceptions=True)


def test_an_unexpected_error_is_a_500_envelope_without_its_text(client: TestClient) -> None:
    response = client.get("/api/schedules/1")
    assert response.status_code == 500
    body = response.json()
    assert (
        body["code"] == 50000
        and body["msg"] == "internal error; the api-server's log has the details"
        and body["data"] is None
    )
    assert DB_TEXT not in response.text


def test_a_read_is_run_again_after_a_busy_database(client: TestClient, scripts: dict[str, Script]) -> None:
    scripts["users"] = Script(errors=[BUSY, BUSY])
    response = client.get("/api/schedules/users")
    assert response.status_code == 200 and response.json()["code"] == 0
    assert scripts["users"].calls == 3


def test_a_write_that_committed_nothing_is_run_again(client: TestClient, scripts: dict[str, Script]) -> None:
    scripts["set_enabled"] = Script(errors=[DUPLICATE])
    assert client.post("/api/schedules/5/disable", json={}).status_code == 200
    assert scripts["set_enabled"].calls == 2


def test_a_write_that_committed_is_not_run_again(client: TestClient, scripts: dict[str, Script]) -> None:
    scripts["set_enabled"] = Script(errors=[BUSY], commit_first=True)
    response = client.post("/api/schedules/5/disable", json={})
    assert scripts["set_enabled"].calls == 1
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    body = response.json()
    assert body["code"] == 50300 and "busy" in body["msg"] and "in part" in body["msg"]
    assert DB_TEXT not in response.text


@pytest.mark.parametrize(
    ("errors", "status", "code", "calls"),
    [
        ([BUSY] * 3, 503, 50300, 3),  # still busy after three attempts
        ([DUPLICATE] * 3, 409, 40900, 3),  # still colliding: the client reads again and retries
        (
            [lambda: sa.exc.TimeoutError(f"QueuePool limit reached {DB_TEXT}")],
            503,
            50300,
            1,
        ),  # no free connection: not again
        ([NOT_NULL], 500, 50000, 1),  # a bug: not again
    ],
    ids=["busy", "collision", "pool", "bug"],
)
def test_what_still_fails_is_a_clear_answer(
    client: TestClient, scripts: dict[str, Script], errors: list[Any], status: int, code: int, calls: int
) -> None:
    scripts["delete_plan"] = Script(errors=list(errors))
    response = client.delete("/api/schedules/5")
    assert (response.status_code, response.json()["code"], scripts["delete_plan"].calls) == (status, code, calls)
    assert DB_TEXT not in response.text
    assert ("Retry-After" in response.headers) is (status == 503)


# -- keep-alive over a real server ------------------------------------------------------------


@pytest.fixture(params=["httptools", "h11"])
def server(request: pytest.FixtureRequest, app: CompatDispatcher) -> Iterator[tuple[str, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=request.param, lifespan="off", log_level="critical")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield "127.0.0.1", port
    finally:
        running.should_exit = True
        thread.join(10)


def test_every_error_keeps_the_keep_alive_connection(server: tuple[str, int], scripts: dict[str, Script]) -> None:
    scripts["users"] = Script(errors=[BUSY])
    connection = http.client.HTTPConnection(*server, timeout=10)
    requests = [
        ("GET", "/api/schedules/1", None, 500, 50000),
        ("GET", "/api/schedules/2", None, 404, 40400),
        ("GET", "/api/schedules/2/no/such/path", None, 404, 40401),
        ("POST", "/api/schedules", b'{"entityGroup": "NOTEBOOK", ', 400, 40000),  # malformed JSON (docs/api.md: 40000)
        ("PUT", "/api/schedules/3", json.dumps({"planItems": []}).encode(), 409, 40900),
        ("GET", "/api/schedules/users", None, 200, 0),  # after a busy database, run again
        ("GET", "/api/schedules/1", None, 500, 50000),
    ]
    local_ports = set()
    for method, path, body, status, code in requests:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        assert (response.status, payload["code"]) == (status, code), (method, path, payload)
        assert response.getheader("Connection", "").lower() != "close" and not response.will_close, (method, path)
        assert connection.sock is not None, (method, path)
        local_ports.add(connection.sock.getsockname()[1])
    assert len(local_ports) == 1  # one connection served every request
    connection.close()
