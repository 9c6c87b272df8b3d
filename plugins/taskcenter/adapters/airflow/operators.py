"""The operators of every plan DAG; thin, they hand the job to its runner.

`TaskCenterJobOperator` runs a plan's job: it builds the `JobRun` (catalog, config options, a
results folder, XCom publishing per `subKey`) and calls the runner of the `jobClass`, looked up
in `taskcenter.adapters.jobs` (the vendor's job classes) or in `[taskcenter] job_runners`.
`AppDatasetsOperator` lists an app's datasets at run time, so an APP_REFRESH plan maps one job
task per dataset (dynamic task mapping): the datasets refresh side by side and each has its own
log, tries and result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]")
OPTION_NAMES = (
    "engine_conn_id",
    "smtp_conn_id",
    "email_from",
    "chromium_path",
    "screenshot_timeout",
    "sync_batch_size",
)


def results_folder() -> Path:
    from airflow.configuration import conf

    configured = conf.get("taskcenter", "results_folder", fallback="")
    if configured:
        return Path(configured)
    return Path(conf.get("core", "airflow_home", fallback=".")) / "taskcenter" / "results"


def _options() -> dict[str, str]:
    from airflow.configuration import conf

    return {
        name: value
        for name in OPTION_NAMES
        if (value := conf.get("taskcenter", name, fallback="")) not in (None, "")
    }


class TaskCenterJobOperator(BaseOperator):
    template_fields: Sequence[str] = ()
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        job_class: str,
        job_params: Mapping[str, Any],
        entity_group: str,
        entity_key: str,
        plan_id: int | None = None,
        sub_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_class = job_class
        self.job_params = dict(job_params)
        self.entity_group = entity_group
        self.entity_key = entity_key
        self.plan_id = plan_id
        self.sub_key = sub_key

    def execute(self, context: Any) -> Any:
        from taskcenter.adapters.catalog import configured_catalog
        from taskcenter.adapters.jobs import runner_for
        from taskcenter.adapters.jobs.base import JobRun, result_key

        ti = context["ti"]
        runner = runner_for(self.job_class)
        self.log.info(
            "taskcenter job %s for %s %s with %s%s",
            self.job_class, self.entity_group, self.entity_key, self.job_params,
            f" (sub-step {self.sub_key})" if self.sub_key else "",
        )
        run_id = context["run_id"]
        map_index = getattr(ti, "map_index", -1)
        folder = results_folder() / _UNSAFE.sub("_", self.dag_id) / _UNSAFE.sub("_", run_id)
        if map_index is not None and map_index >= 0:
            folder = folder / f"map-{map_index}"
        job = JobRun(
            job_class=self.job_class,
            job_params=self.job_params,
            entity_group=self.entity_group,
            entity_key=self.entity_key,
            catalog=configured_catalog(),
            log=self.log,
            publish_result=lambda sub_key, value: ti.xcom_push(key=result_key(sub_key), value=value),
            work_folder=folder,
            sub_key=self.sub_key,
            plan_id=self.plan_id,
            try_number=ti.try_number,
            context=context,
            options=_options(),
        )
        try:
            return runner(job)
        finally:
            job.close()


class AppDatasetsOperator(BaseOperator):
    """Returns the keys of an app's datasets, for the mapped job tasks of an APP_REFRESH plan."""

    ui_color = "#f1f8e9"

    def __init__(self, *, app: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app

    def execute(self, context: Any) -> list[str]:
        from taskcenter.adapters.catalog import configured_catalog
        from taskcenter.adapters.jobs.base import JobDefinitionError
        from taskcenter.domain.catalog import app_datasets

        keys = [e.key for e in app_datasets(configured_catalog(), self.app)]
        if not keys:
            raise JobDefinitionError(f"app {self.app} has no datasets in the entity catalog")
        self.log.info("app %s: refreshing %s dataset(s): %s", self.app, len(keys), ", ".join(keys))
        return keys
