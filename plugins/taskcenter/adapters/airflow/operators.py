"""The operators of every plan DAG: one per vendor job type, thin, they hand the job to its runner.

`TaskCenterOperator` is the shared base: it builds the `JobRun` (catalog, config options, a
results folder, XCom publishing per `subKey`), calls `run_job`, and stops the job's processes
when Airflow stops the task. Each vendor job type is its own subclass whose `run_job` calls its
runner in `taskcenter.adapters.jobs` (the runners do the work, as hooks do in Airflow's
providers); `VENDOR_OPERATORS` maps each vendor `jobClass` to its operator. A job class a
deployment registers (`[taskcenter] job_runners`) runs through the generic
`TaskCenterJobOperator`. `AppDatasetsOperator` lists an app's datasets at run time, so an
APP_REFRESH plan maps one `DatasetRefreshOperator` per dataset (dynamic task mapping): the
datasets refresh side by side and each has its own log, tries and result.

A try that was interrupted (its worker, the scheduler or the whole product died) counts against
`retryTimes` like a failed one: `TaskCenterOperator.claim_try` (docs/job-types.md, "Crashes").
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from taskcenter.adapters import config
from taskcenter.adapters.jobs.cancel import CancelInterrupt, CancelRequest, CancelWatch
from taskcenter.domain.jobs import DEFAULT_JOB_CLASS
from taskcenter.domain.plans import EntityGroup

if TYPE_CHECKING:
    from taskcenter.adapters.jobs.base import JobRun

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]")
# Sent by a task's cancel watch to the task's own main thread (Airflow's runner uses SIGTERM).
INTERRUPT_SIGNAL = signal.SIGUSR1
NOTEBOOK_JOB = DEFAULT_JOB_CLASS[EntityGroup.NOTEBOOK]
PIPELINE_JOB = DEFAULT_JOB_CLASS[EntityGroup.PIPELINE]
DATASET_JOB = DEFAULT_JOB_CLASS[EntityGroup.DATASET]
APP_REFRESH_JOB = DEFAULT_JOB_CLASS[EntityGroup.APP_REFRESH]
SCREENSHOT_JOB = DEFAULT_JOB_CLASS[EntityGroup.SCREENSHOT]
APP_EMAIL_JOB = DEFAULT_JOB_CLASS[EntityGroup.APP_EMAIL]
DB_BATCH_SYNC_JOB = DEFAULT_JOB_CLASS[EntityGroup.DB_BATCH_SYNC]
_GROUP_OF_CLASS = {job_class: group.value for group, job_class in DEFAULT_JOB_CLASS.items()}
# In the task state store (kept across the tries of one task instance): how many tries reached
# `execute`, so an interrupted try counts against retryTimes.
TRIES_STARTED_KEY = "taskcenter.tries_started"
_PR_SET_PDEATHSIG = 1


def results_folder() -> Path:
    return config.results_folder()


def _options() -> dict[str, str]:
    return config.job_options()


class TaskCenterOperator(BaseOperator):
    """Runs one plan's job: builds its `JobRun`, calls `run_job`, stops the job on kill.

    Subclasses that serve vendor job classes list them in `job_classes` (the first is the default
    `job_class`; the entity group defaults to the one whose class it is), so a hand-written DAG
    can say just `NotebookOperator(task_id=..., entity_key="1", job_params={"notebook": 1})`.
    """

    template_fields: Sequence[str] = ()
    ui_color = "#e8f0fe"
    job_classes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        job_params: Mapping[str, Any],
        entity_key: str,
        job_class: str | None = None,
        entity_group: str | None = None,
        plan_id: int | None = None,
        sub_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        job_class = job_class or (self.job_classes[0] if self.job_classes else None)
        if job_class is None:
            raise ValueError(f"{type(self).__name__} needs a job_class")
        if self.job_classes and job_class not in self.job_classes:
            raise ValueError(f"{type(self).__name__} runs {', '.join(self.job_classes)}, not {job_class}")
        entity_group = entity_group or _GROUP_OF_CLASS.get(job_class)
        if entity_group is None:
            raise ValueError(f"{type(self).__name__} needs an entity_group")
        self.job_class = job_class
        self.job_params = dict(job_params)
        self.entity_group = entity_group
        self.entity_key = entity_key
        self.plan_id = plan_id
        self.sub_key = sub_key
        self._job: JobRun | None = None  # while execute runs, for on_kill and a cancel
        self._interrupted = False

    def run_job(self, job: JobRun) -> Any:
        """The job's work, by its runner; the return value is the task's XCom."""
        raise NotImplementedError

    def claim_try(self, context: Mapping[str, Any]) -> None:
        """Count this try as started, or end the run FAILED when the tries retryTimes allows are used up.

        A try whose worker, scheduler or whole product died never reports its end. When the
        scheduler is back, Airflow resets the task instance (`adopt_or_reset_orphaned_tasks`) and
        schedules it again with the next try number without looking at `retries`: the job would
        run again, silently, whatever retryTimes says. So every try that reaches `execute` is
        counted in the task state store, which keeps its keys across the tries of a task
        instance; a try that finds all allowed tries already started fails at once (no retry)
        instead of running the job again. A try that was only queued when the scheduler died
        never got here, so it does not count. `max_tries` rather than `retries`: clearing a task
        in the Airflow UI raises it to grant new tries.
        """
        from airflow.sdk.exceptions import AirflowFailException

        ti = context["ti"]
        max_tries = getattr(ti, "max_tries", None)
        # `retries` is typed Optional; ours is always retryTimes, an int (Airflow reads None as 0).
        allowed = ((self.retries or 0) if max_tries is None else max_tries) + 1
        store = context.get("task_state_store")
        # Without a store (a task run outside Airflow's task runner) every earlier try counts.
        started = ti.try_number - 1 if store is None else int(store.get(TRIES_STARTED_KEY, 0) or 0)
        if started >= allowed:
            message = (
                f"try {ti.try_number} not run: {started} {_tries(started)} of this run already started, "
                "the last one interrupted (its worker, the scheduler or the whole product stopped), "
                f"and retryTimes {self.retries} allows {allowed} in all; this run ends FAILED"
            )
            self.log.error("%s", message)
            raise AirflowFailException(message)
        if store is not None:
            store.set(TRIES_STARTED_KEY, started + 1)
        if (never_started := ti.try_number - 1 - started) > 0:
            self.log.info(
                "try %s: %s earlier %s ended before starting (queued when the scheduler stopped) "
                "and do not count against retryTimes",
                ti.try_number,
                never_started,
                _tries(never_started),
            )

    def execute(self, context: Any) -> Any:
        from taskcenter.adapters.catalog import configured_catalog
        from taskcenter.adapters.jobs.base import JobRun, result_key

        ti = context["ti"]
        _end_with_supervisor()
        self.claim_try(context)
        self.log.info(
            "taskcenter job %s for %s %s with %s%s",
            self.job_class,
            self.entity_group,
            self.entity_key,
            self.job_params,
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
            cancel=self._cancel_watch(ti, map_index),
        )
        self._job = job
        with _cancel_interrupts(self):
            job.cancel.start()
            try:
                result = self.run_job(job)
            except CancelInterrupt as stop:
                self._stopped_for_cancel(job, stop, ti)
            except Exception:
                self._too_late(job, "failed")
                raise
            finally:
                job.cancel.stop()
                self._job = None
                job.close()  # also stops what the runner left running
        self._too_late(job, "finished")
        return result

    def _cancel_watch(self, ti: Any, map_index: int | None) -> CancelWatch:
        """This task's cancel request, read through its own XCom (the task has no DB access)."""
        from taskcenter.adapters.airflow.naming import CANCEL_REQUEST_KEY

        index = -1 if map_index is None else map_index

        def read() -> CancelRequest | None:
            return CancelRequest.of(ti.xcom_pull(task_ids=ti.task_id, key=CANCEL_REQUEST_KEY, map_indexes=index))

        main = threading.get_ident()

        def interrupt(request: CancelRequest) -> None:
            if self._job is not None and not self._interrupted:
                signal.pthread_kill(main, INTERRUPT_SIGNAL)

        def escalate() -> None:
            job = self._job
            if job is not None:
                stopped = job.processes.terminate()
                self.log.warning(
                    "taskcenter: the job had not stopped 5 s after the cancel; ended its processes %s", stopped
                )

        return CancelWatch(read=read, log=self.log, on_request=interrupt, escalate=escalate)

    def _on_interrupt(self, signum: int, frame: Any) -> None:
        """On the main thread, when the watch saw a cancel: stop the job's processes and unwind."""
        job = self._job
        request = job.cancel.request if job is not None else None
        if job is None or request is None or self._interrupted:
            return  # the job ended meanwhile: nothing to stop
        self._interrupted = True
        job.processes.terminate()
        raise CancelInterrupt(request)

    def _stopped_for_cancel(self, job: JobRun, stop: CancelInterrupt, ti: Any) -> None:
        """The job stopped for a cancel: its processes end, its marker says so, the try fails for good."""
        from airflow.sdk.exceptions import AirflowFailException

        from taskcenter.adapters.airflow.naming import CANCEL_STOPPED_KEY

        stopped = job.processes.terminate()
        ti.xcom_push(key=CANCEL_STOPPED_KEY, value={"by": stop.request.by, "at": stop.request.at})
        self.log.warning(
            "taskcenter job %s cancelled: %s%s%s; the run ends CANCELLED",
            self.job_class,
            stop.request.describe(),
            f"; stopped before {stop.before}" if stop.before else "",
            f"; ended its processes {stopped}" if stopped else "",
        )
        raise AirflowFailException(f"cancelled: {stop.request.describe()}") from None

    def _too_late(self, job: JobRun, outcome: str) -> None:
        """A cancel that reached the job only after it had ended changes nothing; the log says so."""
        request = job.cancel.request or job.cancel.poll(announce=False)
        if request is not None:
            self.log.warning(
                "taskcenter: %s came too late: the job had %s; the run keeps its status", request.describe(), outcome
            )

    def on_kill(self) -> None:
        """Stop the job at once: the processes it started, then the runner itself.

        A worker shutdown (or Airflow's own mark-failed: the server refuses the task's heartbeat)
        stops a task with SIGTERM to its process group, and Airflow's handler only calls
        `on_kill`: without more the runner would go on until the supervisor's SIGKILL 5 s later,
        and Chromium or a notebook's kernel, in sessions of their own, would outlive the task. The
        handler runs on the task's main thread, inside `execute`, so raising here ends the runner
        there. `SystemExit` is a BaseException, which no runner's `except Exception` swallows, and
        Airflow fails the try with it like any failure: a task stopped by a worker shutdown keeps
        its retries (`retryTimes`). A cancel does not come this way (see `_on_interrupt`).
        """
        job = self._job
        if job is None:  # not executing (after an execution timeout, `close` already stopped it)
            return
        stopped = job.processes.terminate()
        self.log.warning(
            "taskcenter job %s stopped: the task was told to stop%s",
            self.job_class,
            f"; ended its processes {stopped}" if stopped else "",
        )
        raise SystemExit(f"taskcenter job {self.job_class} for {self.entity_group} {self.entity_key} stopped")


@contextlib.contextmanager
def _cancel_interrupts(operator: TaskCenterOperator) -> Iterator[None]:
    """While the job runs, the cancel watch may interrupt the main thread (`INTERRUPT_SIGNAL`).

    Only the main thread can install a handler; elsewhere (a test calling `execute` on a thread)
    the job still stops at its next checkpoint.
    """
    operator._interrupted = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(INTERRUPT_SIGNAL, operator._on_interrupt)
    try:
        yield
    finally:
        signal.signal(INTERRUPT_SIGNAL, previous)


def _tries(count: int) -> str:
    return "try" if count == 1 else "tries"


def _end_with_supervisor() -> None:
    """SIGTERM this task when its supervisor dies (Linux), so `on_kill` stops the job.

    The task runner is a child of Airflow's supervisor, in a process group of its own: when the
    supervisor dies (its LocalExecutor worker or the scheduler killed, the scheduler's group
    killed by the launcher) nothing else stops it, and the job would go on, unheard, while the
    next try runs it again. Only under Airflow's task runner: a test calling `execute` keeps
    its own process alone. (A supervisor that died before this point already broke the task's
    channel to it, which fails the task's next call.)
    """
    import ctypes

    from airflow.sdk.execution_time import task_runner

    if getattr(task_runner, "SUPERVISOR_COMMS", None) is None:
        return
    with contextlib.suppress(OSError, AttributeError):  # not Linux
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class TaskCenterJobOperator(TaskCenterOperator):
    """A job class the deployment registered: runs the callable `[taskcenter] job_runners` names."""

    def run_job(self, job: JobRun) -> Any:
        from taskcenter.adapters.jobs import runner_for

        return runner_for(self.job_class)(job)


class NotebookOperator(TaskCenterOperator):
    """NOTEBOOK: papermill executes the catalog's notebook, one subKey per cell (`jobs/notebook.py`)."""

    ui_color = "#fff8e1"
    job_classes = (NOTEBOOK_JOB,)

    def run_job(self, job: JobRun) -> Any:
        from taskcenter.adapters.jobs import notebook

        return notebook.run(job)


class PipelineOperator(TaskCenterOperator):
    """PIPELINE: SQL and Python nodes in dependency order, one subKey per node (`jobs/pipeline.py`)."""

    ui_color = "#e3f2fd"
    job_classes = (PIPELINE_JOB,)

    def run_job(self, job: JobRun) -> Any:
        from taskcenter.adapters.jobs import pipeline

        return pipeline.run(job)


class DatasetRefreshOperator(TaskCenterOperator):
    """DATASET, and each mapped task of APP_REFRESH: refresh a dataset into the engine (`jobs/dataset.py`).

    For APP_REFRESH, `sub_key` is the dataset's key (one mapped task per dataset); without one the
    app's datasets are refreshed one after the other.
    """

    ui_color = "#e8f5e9"
    job_classes = (DATASET_JOB, APP_REFRESH_JOB)

    def run_job(self, job: JobRun) -> Any:
        from taskcenter.adapters.jobs import dataset

        if self.job_class == APP_REFRESH_JOB:
            return dataset.run_app_refresh(job)
        return dataset.run(job)


class ScreenshotOperator(TaskCenterOperator):
    """SCREENSHOT: headless Chromium renders the app to a PNG (`jobs/screenshot.py`)."""

    ui_color = "#f3e5f5"
    job_classes = (SCREENSHOT_JOB,)

    def run_job(self, job: JobRun) -> Any:
        from taskcenter.adapters.jobs import screenshot

        return screenshot.run(job)


class AppEmailOperator(TaskCenterOperator):
    """APP_EMAIL: the app's report and screenshot over an Airflow SMTP connection (`jobs/app_email.py`)."""

    ui_color = "#fce4ec"
    job_classes = (APP_EMAIL_JOB,)

    def run_job(self, job: JobRun) -> Any:
        from taskcenter.adapters.jobs import app_email

        return app_email.run(job)


class DbBatchSyncOperator(TaskCenterOperator):
    """DB_BATCH_SYNC: copy a project's tables between two connections in batches (`jobs/db_sync.py`)."""

    ui_color = "#e0f7fa"
    job_classes = (DB_BATCH_SYNC_JOB,)

    def run_job(self, job: JobRun) -> Any:
        from taskcenter.adapters.jobs import db_sync

        return db_sync.run(job)


# jobClass -> its operator; any other class runs through TaskCenterJobOperator.
VENDOR_OPERATORS: Mapping[str, type[TaskCenterOperator]] = {
    job_class: operator
    for operator in (
        NotebookOperator,
        PipelineOperator,
        DatasetRefreshOperator,
        ScreenshotOperator,
        AppEmailOperator,
        DbBatchSyncOperator,
    )
    for job_class in operator.job_classes
}


def operator_for(job_class: str) -> type[TaskCenterOperator]:
    """The operator class that runs `job_class`: the vendor type's own, else the generic one."""
    return VENDOR_OPERATORS.get(job_class, TaskCenterJobOperator)


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
