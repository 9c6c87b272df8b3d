"""Requests that wait for a run (`sync: true`, `block=true`) get threads of their own.

FastAPI runs sync routes on AnyIO's default thread limiter (40 threads), which the api-server
shares with Airflow's own routes, including the execution API that running tasks heartbeat
through. Long waits on that limiter could starve the heartbeats until Airflow kills the tasks, so
waiting requests run on a separate limiter (`[taskcenter] max_waiting_requests`, default 100);
more waiting requests queue instead of taking Airflow's threads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from api_plugin.deps import max_waiting_requests

T = TypeVar("T")


@functools.cache
def _waiting_limiter() -> anyio.CapacityLimiter:
    return anyio.CapacityLimiter(max(1, max_waiting_requests()))


async def run_waiting(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking call that may wait for a run's end, off Airflow's shared thread pool."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=_waiting_limiter())
