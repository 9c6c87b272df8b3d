from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from taskcenter.adapters.airflow.dag_builder import build_plan_dag
from taskcenter.adapters.airflow.dag_files import PlanDagFiles
from taskcenter.adapters.airflow.dag_spec import plan_spec
from taskcenter.adapters.timetable import QuartzTimetable
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan, PlanItem, TriggerType

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)


def _item(item_id: int, trigger: TriggerType, **kwargs) -> PlanItem:
    return PlanItem(
        id=item_id,
        plan_id=7,
        trigger_type=trigger,
        created_at=NOW,
        created_by=1,
        updated_at=NOW,
        updated_by=1,
        **kwargs,
    )


def _plan(*items: PlanItem, enabled: bool = True) -> Plan:
    return Plan(
        id=7,
        entity_group="NOTEBOOK",
        entity_key="1",
        enabled=enabled,
        exec_detail=ExecDetail(
            job_class="com.hengshi.nangaparbat.schedulejob.NotebookJob", job_params={"notebook": 1}, retry_times=2
        ),
        items=items,
        created_at=NOW,
        created_by=1,
        updated_at=NOW,
        updated_by=1,
        title="notebook1",
    )


CRON = _item(1, TriggerType.CRON_JOB, cron_desc="0 15 0 ? * 1", cron_type="WEEKLY", time_zone="GMT+08:00")
DEP = _item(2, TriggerType.DEPENDENCY, trigger_by_jobs=(EntityRef(entity_group="PIPELINE", entity_key="1"),))


def test_files_are_written_atomically_and_only_when_changed(tmp_path: Path) -> None:
    files = PlanDagFiles(bundle_name="dags-folder", bundle_path=tmp_path, subfolder="taskcenter_plans")
    spec = plan_spec(_plan(CRON), owner="admin")
    assert files.write(spec) is True
    assert files.write(spec) is False  # unchanged: no rewrite, no re-parse
    path = files.path(7)
    assert path.name == "plan_7.py" and files.relative_path(7) == "taskcenter_plans/plan_7.py"
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # the file is a valid DAG file
    assert namespace["dag"].dag_id == "taskcenter_plan_7"
    assert files.plan_ids_on_disk() == [7]
    assert not list(files.folder.glob("*.tmp"))
    assert files.remove(7) is True and files.remove(7) is False


def test_builder_presents_the_plan_and_picks_the_schedule() -> None:
    dag = build_plan_dag(plan_spec(_plan(CRON), owner="admin"))
    assert dag.dag_display_name == "notebook1"
    assert set(dag.tags) == {"NOTEBOOK", "taskcenter"}
    assert dag.owner == "admin"
    assert "0 15 0 ? * 1" in dag.description
    assert isinstance(dag.timetable, QuartzTimetable)
    task = dag.get_task("job")
    assert task.retries == 2
    assert [o.uri for o in task.outlets] == ["taskcenter://plans/NOTEBOOK/1"]

    both = build_plan_dag(plan_spec(_plan(CRON, DEP), owner=None))
    assert type(both.timetable).__name__ == "AssetOrTimeSchedule"
    only_dependency = build_plan_dag(plan_spec(_plan(DEP), owner=None))
    assert type(only_dependency.timetable).__name__ == "AssetTriggeredTimetable"
    manual = build_plan_dag(plan_spec(_plan(enabled=False), owner=None))
    assert manual.timetable.can_be_scheduled is False or type(manual.timetable).__name__ == "NullTimetable"
    assert manual.is_paused_upon_creation is True


def test_app_refresh_maps_one_job_task_per_dataset_and_emits_once() -> None:
    import dataclasses

    plan = dataclasses.replace(
        _plan(CRON),
        entity_group="APP_REFRESH",
        exec_detail=ExecDetail(
            job_class="com.hengshi.nangaparbat.schedulejob.AppDatasetRefreshJob", job_params={"app": 1}, retry_times=1
        ),
    )
    dag = build_plan_dag(plan_spec(plan, owner=None, emit_finished=True))
    assert set(dag.task_ids) == {"datasets", "job", "refreshed", "finished"}
    job = dag.get_task("job")
    assert type(job).__name__ == "MappedOperator" and job.partial_kwargs["retries"] == 1
    assert job.operator_class.__name__ == "DatasetRefreshOperator"
    assert dag.get_task("datasets").downstream_task_ids == {"job"}
    assert [o.uri for o in dag.get_task("refreshed").outlets] == ["taskcenter://plans/APP_REFRESH/1"]
    assert not job.partial_kwargs.get("outlets")
    assert dag.get_task("refreshed").downstream_task_ids == {"finished"}


def test_every_vendor_job_class_has_its_own_operator() -> None:
    from taskcenter.adapters.airflow.operators import VENDOR_OPERATORS, TaskCenterJobOperator, TaskCenterOperator
    from taskcenter.domain.jobs import DEFAULT_JOB_CLASS

    assert set(VENDOR_OPERATORS) == set(DEFAULT_JOB_CLASS.values())
    for job_class, operator in VENDOR_OPERATORS.items():
        assert issubclass(operator, TaskCenterOperator) and operator is not TaskCenterJobOperator, job_class
        assert "run_job" in vars(operator), operator  # each type calls its own runner
    # One operator per vendor job type; DATASET's also runs APP_REFRESH's mapped tasks.
    assert len(set(VENDOR_OPERATORS.values())) == 6


@pytest.mark.parametrize(
    ("group", "job_class", "params", "operator"),
    [
        ("NOTEBOOK", "NotebookJob", {"notebook": 1}, "NotebookOperator"),
        ("PIPELINE", "PipelineJob", {"pipeline": 1}, "PipelineOperator"),
        ("DATASET", "DatasetJob", {"app": 1, "dataset": 1}, "DatasetRefreshOperator"),
        ("SCREENSHOT", "ScreenshotJob", {"app": 1}, "ScreenshotOperator"),
        ("APP_EMAIL", "AppEmailJob", {"app": 1}, "AppEmailOperator"),
        ("DB_BATCH_SYNC", "DBBatchSyncJob", {"syncProj": 1}, "DbBatchSyncOperator"),
    ],
)
def test_builder_runs_each_vendor_job_class_with_its_operator(
    group: str, job_class: str, params: dict, operator: str
) -> None:
    import dataclasses

    plan = dataclasses.replace(
        _plan(CRON),
        entity_group=group,
        exec_detail=ExecDetail(
            job_class=f"com.hengshi.nangaparbat.schedulejob.{job_class}", job_params=params, retry_times=0
        ),
    )
    task = build_plan_dag(plan_spec(plan, owner=None)).get_task("job")
    assert type(task).__name__ == operator
    assert (task.entity_group, task.job_params) == (group, params)


def test_a_deployment_job_class_runs_through_the_generic_operator(tmp_path: Path) -> None:
    import dataclasses

    from taskcenter.adapters.airflow.operators import TaskCenterJobOperator

    plan = dataclasses.replace(
        _plan(CRON), exec_detail=ExecDetail(job_class="com.example.OwnJob", job_params={"x": 1}, retry_times=0)
    )
    spec = plan_spec(plan, owner=None)
    assert type(build_plan_dag(spec).get_task("job")) is TaskCenterJobOperator
    # The generated file still embeds the spec and builds the same DAG.
    files = PlanDagFiles(bundle_name="dags-folder", bundle_path=tmp_path, subfolder="taskcenter_plans")
    files.write(spec)
    namespace: dict = {}
    exec(compile(files.path(7).read_text(), "plan_7.py", "exec"), namespace)
    assert type(namespace["dag"].get_task("job")) is TaskCenterJobOperator


def test_vendor_operators_refuse_another_types_job_class() -> None:
    from taskcenter.adapters.airflow.operators import DatasetRefreshOperator, NotebookOperator

    with pytest.raises(ValueError, match="NotebookOperator runs .*NotebookJob, not .*PipelineJob"):
        NotebookOperator(
            task_id="x", job_class="com.hengshi.nangaparbat.schedulejob.PipelineJob", job_params={}, entity_key="1"
        )
    # A hand-written DAG needs only the entity: the job class and group default to the type's.
    notebook = NotebookOperator(task_id="nb", job_params={"notebook": 1}, entity_key="1")
    assert notebook.job_class.endswith(".NotebookJob") and notebook.entity_group == "NOTEBOOK"
    refresh = DatasetRefreshOperator(
        task_id="app",
        job_class="com.hengshi.nangaparbat.schedulejob.AppDatasetRefreshJob",
        job_params={"app": 1},
        entity_key="1",
    )
    assert refresh.entity_group == "APP_REFRESH"
