"""The entity catalog: what a plan's `(entityGroup, entityKey)` names.

`jobParams` carry ids only; the catalog gives the title, creator, path, dataset facts and the
definition a job needs. Deployments plug in their own catalog (the BI platform's); the embedded
default reads a file (`taskcenter.adapters.catalog`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class Entity:
    group: str
    key: str
    title: str
    created_by: int | None = None
    created_by_name: str | None = None
    path: str | None = None
    import_type: int | None = None
    disk_usage: int | None = None
    dataset_count: int | None = None
    dataset_type: str | None = None
    is_virtual: bool | None = None
    update_method: str | None = None
    update_method_switchable: bool | None = None
    definition: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key_ref(self) -> tuple[str, str]:
        return (self.group, self.key)


def is_app_dataset(dataset_key: str, app_id: object) -> bool:
    """Datasets belong to an app by their key, `<appId>-<datasetId>` (the spec's DATASET entity key)."""
    return dataset_key.startswith(f"{app_id}-")


class EntityCatalog(Protocol):
    def get(self, group: str, key: str) -> Entity | None:
        """The entity, or None when the catalog has no such entity."""
        ...

    def entities(self, group: str) -> list[Entity]:
        """Every entity of a group (an app's datasets are the DATASET entities `<app>-<n>`)."""
        ...


APP_GROUPS = frozenset({"APP_REFRESH", "APP_EMAIL", "SCREENSHOT"})
# The groups whose plans cover datasets (see `covered_datasets`); other plans cover none.
DATASET_COVERING_GROUPS = APP_GROUPS | {"DATASET"}


def app_datasets(catalog: EntityCatalog, app_id: object) -> list[Entity]:
    """An app's datasets, in key order."""
    return [e for e in catalog.entities("DATASET") if is_app_dataset(e.key, app_id)]


def covered_datasets(catalog: EntityCatalog, entities: Iterable[Entity | None]) -> list[Entity]:
    """The datasets these entities' plans refresh or read, each once, in key order.

    A DATASET entity covers itself, an app (APP_REFRESH, APP_EMAIL, SCREENSHOT) its datasets; other
    entities cover none. Listing totals count each dataset once, however many plans touch it.
    """
    found: dict[str, Entity] = {}
    app_ids: set[str] = set()
    for entity in entities:
        if entity is None:
            continue
        if entity.group == "DATASET":
            found.setdefault(entity.key, entity)
        elif entity.group in APP_GROUPS:
            app_ids.add(entity.key)
    if app_ids:
        for dataset in catalog.entities("DATASET"):
            if any(is_app_dataset(dataset.key, app) for app in app_ids):
                found.setdefault(dataset.key, dataset)
    return [found[key] for key in sorted(found)]
