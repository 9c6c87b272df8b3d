"""Job types (执行计划任务类型): the vendor's job classes per entity group and their parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskcenter.domain.errors import InvalidInputError
from taskcenter.domain.plans import EntityGroup, ExecDetail

_PREFIX = "com.hengshi.nangaparbat.schedulejob."

# The spec leaves SCREENSHOT's class blank; ScreenshotJob with {"app": appId} is our decision.
DEFAULT_JOB_CLASS: Mapping[EntityGroup, str] = {
    EntityGroup.NOTEBOOK: _PREFIX + "NotebookJob",
    EntityGroup.PIPELINE: _PREFIX + "PipelineJob",
    EntityGroup.DATASET: _PREFIX + "DatasetJob",
    EntityGroup.SCREENSHOT: _PREFIX + "ScreenshotJob",
    EntityGroup.APP_EMAIL: _PREFIX + "AppEmailJob",
    EntityGroup.APP_REFRESH: _PREFIX + "AppDatasetRefreshJob",
    EntityGroup.DB_BATCH_SYNC: _PREFIX + "DBBatchSyncJob",
}


# Job classes whose work is split over an app's datasets (one mapped task and subKey each).
MAPPED_OVER_APP_DATASETS: frozenset[str] = frozenset({DEFAULT_JOB_CLASS[EntityGroup.APP_REFRESH]})


def _id(text: str) -> int | str:
    """Entity ids are integers in the vendor's examples (`{"notebook": 1}`); keep others as text."""
    return int(text) if text.isdigit() else text


def default_job_params(group: EntityGroup, entity_key: str) -> dict[str, Any]:
    """The `jobParams` the spec derives from an entity key."""
    if group is EntityGroup.DATASET:
        app, sep, dataset = entity_key.partition("-")
        if not (sep and app and dataset):
            raise InvalidInputError(
                f"entityKey: a DATASET key is 'appId-datasetId', got {entity_key!r}", field="entityKey"
            )
        return {"app": _id(app), "dataset": _id(dataset)}
    name = {
        EntityGroup.NOTEBOOK: "notebook",
        EntityGroup.PIPELINE: "pipeline",
        EntityGroup.DB_BATCH_SYNC: "syncProj",
    }.get(group, "app")
    return {name: _id(entity_key)}


def default_exec_detail(group: EntityGroup, entity_key: str) -> ExecDetail:
    return ExecDetail(
        job_class=DEFAULT_JOB_CLASS[group], job_params=default_job_params(group, entity_key), retry_times=0
    )
