"""Every compat request ends with an answer in the envelope, on a connection that stays open.

Keep-alive: Starlette hands an error that no handler takes (and any handler registered for
`Exception` or 500) to its outermost ServerErrorMiddleware, which answers and then re-raises the
error, so that uvicorn logs it, and uvicorn then closes the client's keep-alive connection. This
pure-ASGI middleware sits inside that one (`app.add_middleware`), so no error leaves the compat
app: the client gets the envelope and keeps its connection. Domain errors, validation errors and
HTTP errors are answered by the app's handlers before they get here.

Database errors that concern only timing (docs/api.md, "Concurrency"): a transaction aborted for
another one's sake (a PostgreSQL deadlock or serialization failure, SQLite busy past its timeout,
a dropped connection) or one that collided with another's write on a unique or foreign key has
been rolled back, so the request runs once more from the start (its body replayed, new session,
new reads), at most `attempts` times in all, if that is safe: always for a read, for a write only
while it has committed nothing (services commit through `api_plugin.deps`, which marks the
attempt). What still fails is 409 (a collision: the state changed under the request), 503 with
`Retry-After` (the database is busy, or no connection was free in the pool), or 500 (a bug). The
database's own message is logged, never sent.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio

from api_plugin.envelope import failure
from taskcenter.adapters.store.transactions import DbFailure, classify
from taskcenter.domain.errors import ErrorCode
from taskcenter.domain.limits import MAX_BODY_BYTES

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ATTEMPT_KEY = "taskcenter.attempt"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(kw_only=True)
class Attempt:
    """One run of a request through the app; `committed` once it may have stored something."""

    number: int = 1
    committed: bool = False


def attempt_of(scope: Scope) -> Attempt:
    """The current attempt (a detached one outside the guard, e.g. in tests of a bare app)."""
    attempt = scope.get(ATTEMPT_KEY)
    return attempt if isinstance(attempt, Attempt) else Attempt()


class RequestGuard:
    def __init__(self, app: ASGIApp, *, attempts: int = 3, backoff: float = 0.05) -> None:
        self.app = app
        self.attempts = attempts
        self.backoff = backoff

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            too_large = failure(
                status_code=413,
                code=ErrorCode.BAD_REQUEST,
                msg=f"body: larger than {MAX_BODY_BYTES // 1024} KiB",
                field="body",
            )
            await too_large(scope, receive, send)
            return
        for number in range(1, self.attempts + 1):
            attempt = Attempt(number=number)
            response = _ResponseState(send)
            try:
                await self.app({**scope, ATTEMPT_KEY: attempt}, _replay(body, receive), response.send)
                return
            except Exception as exc:  # noqa: BLE001 - every error ends here, answered
                kind = classify(exc)
                where = f"{scope.get('method')} {scope.get('path')}"
                if response.started:
                    if not response.finished:
                        raise  # half an answer: only closing the connection can end it
                    log.exception("Error after the answer to %s was sent", where)
                    return
                safe = scope.get("method") in SAFE_METHODS or not attempt.committed
                if kind in (DbFailure.RETRY, DbFailure.COLLISION) and safe and number < self.attempts:
                    log.warning("%s: %s on attempt %d, running it again", where, kind.value, number, exc_info=True)
                    await anyio.sleep(self.backoff * number * random.uniform(0.5, 1.5))
                    continue
                answer = _answer(kind, exc, where=where, partial=not safe)
                await answer(scope, receive, send)
                return


def _answer(kind: DbFailure | None, exc: Exception, *, where: str, partial: bool) -> Any:
    """The envelope for an error no handler took; the error itself goes to the log."""
    maybe_applied = " (it may have been applied in part: read the current state first)" if partial else ""
    if kind is DbFailure.COLLISION:
        log.warning("%s collided with a concurrent request", where, exc_info=exc)
        return failure(
            status_code=409,
            code=ErrorCode.CONFLICT,
            msg=f"the request conflicts with a concurrent change; read the current state and retry{maybe_applied}",
        )
    if kind in (DbFailure.RETRY, DbFailure.OVERLOADED):
        log.warning("%s: the database is busy (%s)", where, kind.value, exc_info=exc)
        return failure(
            status_code=503,
            code=ErrorCode.UNAVAILABLE,
            msg=f"the database is busy; retry in a moment{maybe_applied}",
            headers={"Retry-After": "1"},
        )
    log.error("Unhandled error on %s", where, exc_info=exc)
    return failure(status_code=500, code=ErrorCode.INTERNAL, msg="internal error; the api-server's log has the details")


async def _read_body(receive: Receive) -> list[Message] | None:
    """The request's body messages, kept so that the request can be run again (None: the body is
    larger than any request of this API needs, `MAX_BODY_BYTES`; reading stops there)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if size > MAX_BODY_BYTES:
            return None
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class _ResponseState:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.finished = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True
        await self._send(message)
