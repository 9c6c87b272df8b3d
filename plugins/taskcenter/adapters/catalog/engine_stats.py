"""The catalog as the API shows it: dataset sizes and counts come from the dataset engine.

`diskUsage` and `datasetCount` are facts of the engine DB (what the last refresh materialized),
not of the catalog file: a DATASET entity counts 1 once its table exists in the engine, with the
table's size in bytes; an app (APP_REFRESH, APP_EMAIL, SCREENSHOT) sums its datasets `<app>-<n>`.
Before any refresh (or when the engine is unreachable) the catalog's own values stand. The stats
are read once and kept for `ttl` seconds (by default for the object's life: the API makes one per
request).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from taskcenter.domain.catalog import APP_GROUPS, Entity, EntityCatalog, is_app_dataset

log = logging.getLogger(__name__)
Stats = dict[str, tuple[int, "int | None"]]


class EngineStatsCatalog:
    def __init__(self, inner: EntityCatalog, read_stats: Callable[[], Stats], *, ttl: float = float("inf")) -> None:
        self._inner = inner
        self._read_stats = read_stats
        self._ttl = ttl
        self._lock = threading.Lock()
        self._stats: Stats = {}
        self._read_at: float | None = None

    @property
    def folder(self) -> Any:
        return getattr(self._inner, "folder", None)

    def _current(self) -> Stats:
        with self._lock:
            now = time.monotonic()
            if self._read_at is None or now - self._read_at > self._ttl:
                try:
                    self._stats = self._read_stats()
                except Exception as exc:  # the engine is optional for every other endpoint
                    log.warning("taskcenter: cannot read dataset engine stats: %s", exc)
                    self._stats = {}
                self._read_at = now
            return self._stats

    def _with_stats(self, entity: Entity | None) -> Entity | None:
        if entity is None or (entity.group != "DATASET" and entity.group not in APP_GROUPS):
            return entity
        stats = self._current()
        if entity.group == "DATASET":
            found = [stats[entity.key]] if entity.key in stats else []
        else:
            found = [value for key, value in stats.items() if is_app_dataset(key, entity.key)]
        if not found:
            return entity
        return dataclasses.replace(
            entity, dataset_count=len(found), disk_usage=sum(size or 0 for _, size in found)
        )

    def get(self, group: str, key: str) -> Entity | None:
        return self._with_stats(self._inner.get(group, key))

    def entities(self, group: str) -> list[Entity]:
        return [e for e in (self._with_stats(x) for x in self._inner.entities(group)) if e is not None]
