"""The launcher's supervision: a component that dies is noted with its cause and started again."""

from __future__ import annotations

from pathlib import Path

from taskcenter.launcher.components import AirflowStack, backoff


def test_backoff_doubles_up_to_a_minute() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4, 7, 20)] == [1, 2, 4, 8, 60, 60]


# A component that starts a child in a process group of its own, as Airflow's task supervisor
# starts each task runner, and prints the child's pid.


def test_plans_have_a_dag_processor_of_their_own(tmp_path: Path) -> None:
    from taskcenter.launcher.home import HomeSettings

    settings = HomeSettings(home=tmp_path, examples_dir=tmp_path / "examples")
    stack = AirflowStack(settings)
    main = stack._command("dag-processor")
    assert main[-4:] == ["--bundle-name", "dags-folder", "--bundle-name", "taskcenter-examples"]
    plans = stack._command("plan-processor")
    assert plans[-3:] == ["plan-processor", "--bundle-name", "taskcenter-plans"]
