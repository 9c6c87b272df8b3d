"""Entity catalogs: the embedded file catalog and the configured one (`[taskcenter] catalog_path`)."""

from __future__ import annotations

import functools
from pathlib import Path

from taskcenter.adapters import config
from taskcenter.adapters.catalog.engine_stats import EngineStatsCatalog
from taskcenter.adapters.catalog.file_catalog import FileEntityCatalog


def configured_catalog_path() -> Path:
    return config.catalog_path()


@functools.cache
def _file_catalog(path: Path) -> FileEntityCatalog:
    return FileEntityCatalog(path)


def configured_catalog() -> FileEntityCatalog:
    """The catalog file of this deployment (the shipped demo catalog unless configured)."""
    return _file_catalog(configured_catalog_path())


@functools.cache
def _engine(conn_id: str) -> object:
    from taskcenter.adapters.jobs.base import sql_engine

    return sql_engine(conn_id)


def _engine_stats() -> dict[str, tuple[int, int | None]]:
    from taskcenter.adapters.jobs.dataset import read_stats

    return read_stats(_engine(config.engine_conn_id()))


# A request reads the engine's stats at most once a second: a listing reads them once, and a
# run-now with `sync: true` answers with the sizes its own refresh just wrote.
API_STATS_TTL = 1.0


def api_catalog() -> EngineStatsCatalog:
    """The configured catalog with dataset sizes and counts from the dataset engine, for one request.

    A new one per request, so it never answers with stats older than the request (a client reading
    a plan right after its refresh sees the new size).
    """
    return EngineStatsCatalog(configured_catalog(), _engine_stats, ttl=API_STATS_TTL)
