"""`TaskCenterJobOperator`: the task of every plan DAG; thin, it hands the job to its runner.

The runner for a `jobClass` is looked up in `taskcenter.adapters.jobs` (the vendor's job classes)
or in `[taskcenter] job_runners` (deployment-registered classes). A job class without a runner
fails the run with a message saying so, so nothing pretends to have run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator


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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_class = job_class
        self.job_params = dict(job_params)
        self.entity_group = entity_group
        self.entity_key = entity_key

    def execute(self, context: Any) -> Any:
        from taskcenter.adapters.jobs import runner_for

        runner = runner_for(self.job_class)
        self.log.info("taskcenter job %s for %s %s with %s", self.job_class, self.entity_group, self.entity_key, self.job_params)
        return runner(
            context=context,
            job_params=self.job_params,
            entity_group=self.entity_group,
            entity_key=self.entity_key,
            log=self.log,
        )
