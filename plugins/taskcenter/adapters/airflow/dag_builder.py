"""Builds a plan's DAG from its spec; called by the generated file of each plan.

schedule:  cron items only       -> QuartzTimetable (Quartz semantics, one zone per item)
           dependencies only     -> AssetAny(upstream plan assets)
           both                  -> AssetOrTimeSchedule(timetable, assets)
           neither               -> None (runs only when started through the API)
task:      one `job` task, run by the operator of its jobClass (`operators.operator_for`:
           NotebookOperator, ..., TaskCenterJobOperator for a deployment's own class); for an
           app refresh a `datasets` task lists the app's datasets and `job`
           (DatasetRefreshOperator) is mapped over them; on success it emits the plan's asset,
           which dependent plans and hand-written DAGs schedule on; when some plan waits for
           this one to end in any state (`triggerOn: FINISHED`), a teardown task `finished`
           emits `<asset>/finished` after the job, whatever its outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from taskcenter.adapters.airflow.naming import asset_uri_for, finished_asset_uri_for
from taskcenter.domain.plans import EntityRef

START_DATE = datetime(2020, 1, 1, tzinfo=timezone.utc)
JOB_TASK = "job"
DATASETS_TASK = "datasets"
REFRESHED_TASK = "refreshed"


def plan_asset(ref: EntityRef, *, finished: bool = False) -> Any:
    from airflow.sdk import Asset

    uri = finished_asset_uri_for(ref) if finished else asset_uri_for(ref)
    # name == uri, so a hand-written DAG can say just `Asset("taskcenter://plans/NOTEBOOK/1")`.
    return Asset(name=uri, uri=uri)


def _schedule(spec: dict[str, Any]) -> Any:
    from airflow.sdk import AssetAny

    from taskcenter.adapters.timetable import QuartzTimetable
    from taskcenter.domain.schedule import CronEntry

    timetable = (
        QuartzTimetable(
            [CronEntry(item_id=e["item_id"], expression=e["expression"], zone=e["zone"]) for e in spec["cron"]]
        )
        if spec["cron"]
        else None
    )
    upstreams = [
        plan_asset(
            EntityRef(entity_group=u["entity_group"], entity_key=u["entity_key"]), finished=u.get("on") == "FINISHED"
        )
        for u in spec["upstreams"]
    ]
    assets = AssetAny(*upstreams) if upstreams else None
    if timetable is not None and assets is not None:
        from airflow.timetables.assets import AssetOrTimeSchedule

        # Typed for the scheduler's deserialized assets, but a DAG file gives it the SDK's (its
        # serialize() encodes those); airflow.sdk's AssetOrTimeSchedule would in turn reject the
        # core Timetable a plugin timetable is. No class is typed for this mix: ignore.
        return AssetOrTimeSchedule(timetable=timetable, assets=assets)  # type: ignore[arg-type]
    return timetable if timetable is not None else assets


def _retry_delay() -> timedelta:
    from taskcenter.adapters import config

    return config.retry_delay()


def _job_task(spec: dict[str, Any], ref: EntityRef) -> Any:
    """The `job` task; for an app refresh, one mapped `job` task per dataset of the app."""
    from taskcenter.adapters.airflow.operators import AppDatasetsOperator, operator_for
    from taskcenter.domain.jobs import MAPPED_OVER_APP_DATASETS

    job = spec["job"]
    arguments: dict[str, Any] = {
        "task_id": JOB_TASK,
        "job_class": job["job_class"],
        "job_params": job["job_params"],
        "entity_group": spec["entity_group"],
        "entity_key": spec["entity_key"],
        "plan_id": spec["plan_id"],
        "retries": job["retry_times"],
        "retry_delay": _retry_delay(),
        "outlets": [plan_asset(ref)],
    }
    operator = operator_for(job["job_class"])
    if job["job_class"] not in MAPPED_OVER_APP_DATASETS:
        return operator(**arguments)
    from airflow.providers.standard.operators.empty import EmptyOperator

    outlets = arguments.pop("outlets")
    datasets = AppDatasetsOperator(task_id=DATASETS_TASK, app=job["job_params"].get("app", spec["entity_key"]))
    # The map index shows the dataset key in the UI and names each mapped task's subKey.
    mapped = operator.partial(**arguments, map_index_template="{{ task.sub_key }}").expand(sub_key=datasets.output)
    # One asset event per run, after every dataset, not one per mapped task.
    refreshed = EmptyOperator(task_id=REFRESHED_TASK, outlets=outlets)
    mapped >> refreshed
    return refreshed


def build_plan_dag(spec: dict[str, Any]) -> Any:
    from airflow.sdk import DAG

    ref = EntityRef(entity_group=spec["entity_group"], entity_key=spec["entity_key"])
    with DAG(
        dag_id=spec["dag_id"],
        dag_display_name=spec["title"],
        description=spec["description"],
        doc_md=spec["description"],
        schedule=_schedule(spec),
        start_date=START_DATE,
        catchup=False,
        tags=[spec["entity_group"], "taskcenter"],
        is_paused_upon_creation=not spec["enabled"],
        max_active_runs=16,
        default_args={"owner": spec["owner"]},
        params={},
    ) as dag:
        run_job = _job_task(spec, ref)
        if spec.get("emit_finished"):
            # A teardown runs whatever the job's outcome and does not decide the run's state.
            from airflow.providers.standard.operators.empty import EmptyOperator

            finished = EmptyOperator(task_id="finished", outlets=[plan_asset(ref, finished=True)]).as_teardown()
            run_job >> finished
    return dag
