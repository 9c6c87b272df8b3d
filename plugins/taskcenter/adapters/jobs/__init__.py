"""Job runners per `jobClass`: the work a plan's task does.

A runner is a callable `(job: JobRun) -> result | None` (see `base.JobRun`). The built-in runners
for the vendor's job classes are listed in `BUILTIN_RUNNERS` as dotted paths (imported only in the
task process that needs them); `[taskcenter] job_runners` adds deployment-specific ones as a JSON
object `{"jobClass": "module:callable"}`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from typing import Any

Runner = Callable[..., Any]

_PREFIX = "com.hengshi.nangaparbat.schedulejob."
_JOBS = "taskcenter.adapters.jobs."
# jobClass -> "module:callable" (the classes of domain.jobs.DEFAULT_JOB_CLASS).
BUILTIN_RUNNERS: Mapping[str, str] = {
    _PREFIX + "NotebookJob": _JOBS + "notebook:run",
    _PREFIX + "PipelineJob": _JOBS + "pipeline:run",
    _PREFIX + "DatasetJob": _JOBS + "dataset:run",
    _PREFIX + "AppDatasetRefreshJob": _JOBS + "dataset:run_app_refresh",
    _PREFIX + "ScreenshotJob": _JOBS + "screenshot:run",
    _PREFIX + "AppEmailJob": _JOBS + "app_email:run",
    _PREFIX + "DBBatchSyncJob": _JOBS + "db_sync:run",
}


class JobNotAvailableError(RuntimeError):
    """No runner is registered for a job class."""


def configured_runners() -> dict[str, str]:
    from airflow.configuration import conf

    raw = conf.get("taskcenter", "job_runners", fallback="") or ""
    if not raw.strip():
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("[taskcenter] job_runners must be a JSON object {jobClass: 'module:callable'}")
    return {str(k): str(v) for k, v in value.items()}


def runner_for(job_class: str) -> Runner:
    target = {**BUILTIN_RUNNERS, **configured_runners()}.get(job_class)
    if target is None:
        raise JobNotAvailableError(
            f"no runner for job class {job_class!r} in this taskcenter version; "
            "register one with [taskcenter] job_runners = {\"<jobClass>\": \"module:callable\"}"
        )
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
