"""Job runners: the work a plan's task does.

A runner is a callable `(job: JobRun) -> result | None` (see `base.JobRun`). The vendor's job
classes each have their operator (`taskcenter.adapters.airflow.operators`), which calls its
runner module here; `[taskcenter] job_runners` registers a deployment's own job classes as a JSON
object `{"jobClass": "module:callable"}`, run by the generic `TaskCenterJobOperator`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

Runner = Callable[..., Any]


class JobNotAvailableError(RuntimeError):
    """No runner is registered for a job class."""


def configured_runners() -> dict[str, str]:
    """`[taskcenter] job_runners`: job class -> "module:callable"."""
    from taskcenter.adapters import config

    return config.job_runners()


def runner_for(job_class: str) -> Runner:
    """The deployment's runner of `job_class` (the vendor's classes have their own operators)."""
    target = configured_runners().get(job_class)
    if target is None:
        raise JobNotAvailableError(
            f"no runner for job class {job_class!r} in this taskcenter version; "
            "register one with [taskcenter] job_runners = {\"<jobClass>\": \"module:callable\"}"
        )
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
