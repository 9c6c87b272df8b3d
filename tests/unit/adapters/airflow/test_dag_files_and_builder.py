from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from taskcenter.adapters.airflow.dag_builder import build_plan_dag
from taskcenter.adapters.airflow.dag_files import PlanDagFiles
from taskcenter.adapters.airflow.dag_spec import plan_spec
from taskcenter.adapters.timetable import QuartzTimetable
from taskcenter.domain.plans import EntityRef, ExecDetail, Plan, PlanItem, TriggerType

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)


def _item(item_id: int, trigger: TriggerType, **kwargs) -> PlanItem:
    return PlanItem(id=item_id, plan_id=7, trigger_type=trigger, created_at=NOW, created_by=1, updated_at=NOW, updated_by=1, **kwargs)


def _plan(*items: PlanItem, enabled: bool = True) -> Plan:
    return Plan(
        id=7,
        entity_group="NOTEBOOK",
        entity_key="1",
        enabled=enabled,
        exec_detail=ExecDetail(job_class="com.hengshi.nangaparbat.schedulejob.NotebookJob", job_params={"notebook": 1}, retry_times=2),
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
        exec_detail=ExecDetail(job_class="com.hengshi.nangaparbat.schedulejob.AppDatasetRefreshJob", job_params={"app": 1}, retry_times=1),
    )
    dag = build_plan_dag(plan_spec(plan, owner=None, emit_finished=True))
    assert set(dag.task_ids) == {"datasets", "job", "refreshed", "finished"}
    job = dag.get_task("job")
    assert type(job).__name__ == "MappedOperator" and job.partial_kwargs["retries"] == 1
    assert dag.get_task("datasets").downstream_task_ids == {"job"}
    assert [o.uri for o in dag.get_task("refreshed").outlets] == ["taskcenter://plans/APP_REFRESH/1"]
    assert not job.partial_kwargs.get("outlets")
    assert dag.get_task("refreshed").downstream_task_ids == {"finished"}


def test_every_vendor_job_class_has_a_runner() -> None:
    import importlib

    from taskcenter.adapters.jobs import BUILTIN_RUNNERS
    from taskcenter.domain.jobs import DEFAULT_JOB_CLASS

    assert set(BUILTIN_RUNNERS) == set(DEFAULT_JOB_CLASS.values())
    for target in BUILTIN_RUNNERS.values():
        module, _, name = target.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), target
