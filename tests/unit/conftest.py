"""Keeps tests/unit pure: no process start, no network connection, no database server.

While a unit test sets up and runs, starting a program (subprocess, os.posix_spawn, os.fork,
os.system, multiprocessing), opening an IP socket (connect or bind, loopback too) and connecting
to PostgreSQL (psycopg and psycopg2 talk through libpq, below Python's socket module) raise `ImpureUnitTest`.
The attempt is also recorded, so a test whose code swallows the error still fails.

Teardown is not guarded: when plain `pytest` runs every folder, session fixtures of
tests/component and tests/integration (a PostgreSQL database, Airflow components) are torn down
after the last unit test, and stopping them is not the unit test's doing.
"""

from __future__ import annotations

import _posixsubprocess
import importlib
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

MESSAGE = "unit tests stay pure: move this test to tests/component"
_IP_FAMILIES = {socket.AF_INET, socket.AF_INET6}


class ImpureUnitTest(RuntimeError):
    """A unit test started a program or opened a network connection."""


class _Guard:
    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._saved: list[tuple[Any, str, Any]] = []

    def _refuse(self, what: str) -> None:
        self.attempts.append(what)
        raise ImpureUnitTest(f"{MESSAGE} (it tried {what})")

    def _replace(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return
        # A class's own descriptor (a classmethod stays one once restored); None: inherited.
        saved = owner.__dict__.get(name) if isinstance(owner, type) else original
        self._saved.append((owner, name, saved))
        setattr(owner, name, make(original))

    def _process(self, label: str, program_at: int | None = None) -> Callable[[Any], Any]:
        """A stand-in for `label` that refuses; `program_at`: the position of its program argument."""

        def make(_original: Any) -> Any:
            def refused(*args: Any, **kwargs: Any) -> Any:
                program = f"{args[program_at]!r}" if program_at is not None and len(args) > program_at else ""
                self._refuse(f"to start a process: {label}({program})")

            return refused

        return make

    def _socket(self, label: str) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            def guarded(sock: socket.socket, address: Any, *args: Any) -> Any:
                if sock.family in _IP_FAMILIES:
                    self._refuse(f"socket.{label}({address!r})")
                return original(sock, address, *args)

            return guarded

        return make

    def _postgres(self, driver: str) -> Callable[[Any], Any]:
        def make(_original: Any) -> Any:
            def refused(*args: Any, **kwargs: Any) -> Any:
                self._refuse(f"to connect to PostgreSQL ({driver}.connect)")

            return refused

        return make

    def install(self) -> None:
        self._replace(subprocess.Popen, "_execute_child", self._process("subprocess.Popen", program_at=1))
        self._replace(_posixsubprocess, "fork_exec", self._process("_posixsubprocess.fork_exec"))  # multiprocessing
        for name in ("posix_spawn", "posix_spawnp", "system"):
            self._replace(os, name, self._process(f"os.{name}", program_at=0))
        for name in ("fork", "forkpty"):
            self._replace(os, name, self._process(f"os.{name}"))
        for name in ("connect", "connect_ex", "bind"):
            self._replace(socket.socket, name, self._socket(name))
        for driver in ("psycopg", "psycopg2"):  # libpq opens their sockets, below the socket module
            try:
                module = importlib.import_module(driver)
            except ImportError:
                continue
            self._replace(module, "connect", self._postgres(driver))
            for cls in ("Connection", "AsyncConnection"):
                if hasattr(module, cls):
                    self._replace(getattr(module, cls), "connect", self._postgres(driver))

    def uninstall(self) -> None:
        while self._saved:
            owner, name, saved = self._saved.pop()
            if saved is None:
                delattr(owner, name)
            else:
                setattr(owner, name, saved)


def _guarded(phase: str) -> Iterator[None]:
    guard = _Guard()
    guard.install()
    try:
        yield
    finally:
        guard.uninstall()
    if guard.attempts:
        # Reached only when the phase itself passed: the test's code caught ImpureUnitTest.
        raise ImpureUnitTest(f"{MESSAGE} (during {phase} it tried {'; '.join(guard.attempts)})")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded("setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded("the test"))


@pytest.fixture(autouse=True)
def _no_git_for_the_build_id(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The API envelope's version asks git for the build unless TASKCENTER_BUILD is set: set it."""
    from taskcenter.version import build_id

    monkeypatch.setenv("TASKCENTER_BUILD", "unit-tests")
    build_id.cache_clear()
    yield
    build_id.cache_clear()  # other folders' tests see the real build again
