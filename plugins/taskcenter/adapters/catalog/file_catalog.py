"""The embedded default catalog: entities kept in a JSON file.

The file maps entity groups to entities keyed by entity key (see `demo_catalog.json`, shipped with
the package, which has an entity with key `1` for every group, `1-1` for datasets). It is read
again when it changes, so a deployment can edit it without restarting Airflow.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from taskcenter.domain.catalog import Entity

DEMO_CATALOG = Path(__file__).with_name("demo_catalog.json")

_FIELDS = {
    "title": "title",
    "createdBy": "created_by",
    "createdByName": "created_by_name",
    "path": "path",
    "importType": "import_type",
    "diskUsage": "disk_usage",
    "datasetCount": "dataset_count",
    "datasetType": "dataset_type",
    "isVirtual": "is_virtual",
    "updateMethod": "update_method",
    "updateMethodSwitchable": "update_method_switchable",
    "definition": "definition",
}


class CatalogFileError(ValueError):
    """The catalog file is unreadable or malformed."""


def _entity(group: str, key: str, raw: dict[str, Any], source: Path) -> Entity:
    unknown = set(raw) - set(_FIELDS)
    if unknown:
        raise CatalogFileError(f"{source}: {group}/{key}: unknown field(s) {sorted(unknown)}")
    if not isinstance(raw.get("title"), str):
        raise CatalogFileError(f"{source}: {group}/{key}: 'title' (a string) is required")
    return Entity(group=group, key=key, **{_FIELDS[name]: value for name, value in raw.items()})


def load_entities(path: Path) -> dict[tuple[str, str], Entity]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogFileError(f"cannot read entity catalog {path}: {exc}") from exc
    groups = document.get("entities")
    if not isinstance(groups, dict):
        raise CatalogFileError(f"{path}: top-level 'entities' object is required")
    return {
        (group, str(key)): _entity(group, str(key), raw, path)
        for group, entities in groups.items()
        for key, raw in entities.items()
    }


class FileEntityCatalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entities: dict[tuple[str, str], Entity] = {}

    def _current(self) -> dict[tuple[str, str], Entity]:
        stat = os.stat(self.path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._entities = load_entities(self.path)
                self._stamp = stamp
            return self._entities

    @property
    def folder(self) -> Path:
        """Relative file paths in definitions are relative to the catalog file's folder."""
        return self.path.parent

    def get(self, group: str, key: str) -> Entity | None:
        return self._current().get((group, key))

    def entities(self, group: str) -> list[Entity]:
        """Every entity of a group, in key order."""
        return sorted((e for (g, _), e in self._current().items() if g == group), key=lambda e: e.key)
