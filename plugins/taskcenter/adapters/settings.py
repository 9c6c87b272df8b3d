"""taskcenter's options, read from Airflow's configuration (`[taskcenter]`, see provider.py)."""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo

from airflow.configuration import conf

SECTION = "taskcenter"


def display_zone() -> ZoneInfo:
    return _zone(conf.get(SECTION, "display_timezone", fallback="Asia/Shanghai"))


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
