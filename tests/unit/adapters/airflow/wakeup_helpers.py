"""The parse wake-up tests' probe, shared by the unit and the component tests: whether a wake-up
channel turns readable, as the plan-processor's selector sees it. Pure: it opens no channel itself."""

from __future__ import annotations

import selectors

from taskcenter.adapters.airflow.parse_wakeup import Wakeup


def woken(wakeup: Wakeup, *, timeout: float) -> bool:
    """Whether the selector reports the channel readable within `timeout`; drained if so."""
    with selectors.DefaultSelector() as selector:
        selector.register(wakeup, selectors.EVENT_READ)
        ready = bool(selector.select(timeout=timeout))
    if ready:
        assert wakeup.drain() is True
    return ready
