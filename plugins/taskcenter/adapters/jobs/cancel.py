"""A running job learns of a cancel and stops before its next side effect.

The api-server records a cancel as a request on each running task instance of the run (an XCom,
`CANCEL_REQUEST_KEY`); the task cannot read the metadata database, only what its supervisor
serves, so `CancelWatch` reads that request through the task's own XCom: every `interval`
seconds on a thread of its own, and afresh at each `checkpoint`. Once a request is seen:

- the watcher logs who asked and when, and `interrupt`s the job (the operator raises
  `CancelInterrupt` on the task's main thread and stops the job's processes); if the job has not
  ended a few seconds later, the watcher `escalate`s (stops the job's processes from its own
  thread, which ends what the main thread waits on);
- every `checkpoint` a runner passes before a side effect (a notebook cell, a pipeline node, a
  sync batch, a dataset swap, a mail) raises `CancelInterrupt`, so nothing new begins.

`CancelInterrupt` is a BaseException: a runner's `except Exception` around one step must not
swallow it and go on with the next. Unit tests drive the watch with a plain `read` function.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class CancelRequest:
    by: str
    at: str  # ISO 8601, UTC

    @classmethod
    def of(cls, value: Any) -> CancelRequest | None:
        """The request an XCom value holds (None: no request, or not one of ours).

        The value may come still JSON-encoded (as the api-server stored it), depending on the XCom
        backend's deserialization; both forms are read.
        """
        if isinstance(value, str | bytes):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if not isinstance(value, Mapping) or not value.get("at"):
            return None
        return cls(by=str(value.get("by") or "unknown"), at=str(value["at"]))

    def describe(self) -> str:
        return f"cancel requested by {self.by} at {self.at}"


class CancelInterrupt(BaseException):
    """The job stops here for a cancel (raised on the task's main thread)."""

    def __init__(self, request: CancelRequest, *, before: str | None = None) -> None:
        self.request = request
        self.before = before
        super().__init__(request.describe() + (f"; stopped before {before}" if before else ""))


ReadRequest = Callable[[], CancelRequest | None]


class CancelWatch:
    """Watches one task's cancel request; `checkpoint` makes a runner stop before a side effect."""

    def __init__(
        self,
        *,
        read: ReadRequest,
        log: Any,
        interval: float = 0.5,
        on_request: Callable[[CancelRequest], None] | None = None,
        escalate: Callable[[], None] | None = None,
        escalate_after: float = 5.0,
    ) -> None:
        self._read = read
        self._log = log
        self._interval = interval
        self._on_request = on_request
        self._escalate = escalate
        self._escalate_after = escalate_after
        self._request: CancelRequest | None = None
        self._seen = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def never(cls) -> CancelWatch:
        """A watch that never sees a request (jobs run outside a task: unit tests, the CLI)."""
        return cls(read=lambda: None, log=None)

    @property
    def request(self) -> CancelRequest | None:
        return self._request

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="taskcenter-cancel-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self._interval * 4 + 5)

    def poll(self, *, announce: bool = True) -> CancelRequest | None:
        """Read the request now; the first one seen is logged and handed to `on_request` once
        (not with `announce=False`: the job has ended, there is nothing left to stop)."""
        if self._request is not None:
            return self._request
        try:
            request = self._read()
        except Exception as exc:  # the supervisor is busy or gone: try again at the next poll
            if self._log is not None:
                self._log.debug("taskcenter: reading the cancel request failed: %r", exc)
            return None
        if request is None:
            return None
        self._request = request
        if announce and not self._seen.is_set():
            self._seen.set()
            if self._log is not None:
                self._log.warning("taskcenter: %s; stopping the job", request.describe())
            if self._on_request is not None:
                self._on_request(request)
        return request

    def checkpoint(self, before: str) -> None:
        """Raise `CancelInterrupt` if a cancel was requested; `before` names the step not begun."""
        request = self.poll()
        if request is not None:
            raise CancelInterrupt(request, before=before)

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            if self.poll() is not None:
                break
        else:
            return
        # The job was interrupted; if it has not ended after `escalate_after` s (its main thread
        # stuck in a call that signals do not break), `escalate` stops what it waits on.
        if self._escalate is not None and not self._stop.wait(self._escalate_after):
            self._escalate()
