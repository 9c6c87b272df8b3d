"""The operators without a process started: on_kill outside execute, a cancel seen at the job's
checkpoints or after it finished, and the rule for interrupted tries.

An interrupted try (worker, scheduler or product died) is run again by Airflow with the next try
number whatever `retries` says; `claim_try` counts the tries that started in the task state store
(a fake here, with the real one's `get`/`set`) and fails the try that finds none left.

On_kill and SIGTERM on real processes: tests/component/adapters/airflow/test_operators.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from structlog.testing import capture_logs

from taskcenter.adapters.airflow.naming import CANCEL_REQUEST_KEY, CANCEL_STOPPED_KEY
from taskcenter.adapters.airflow.operators import TRIES_STARTED_KEY, TaskCenterJobOperator, TaskCenterOperator
from tests.unit.adapters.airflow import operator_helpers
from tests.unit.adapters.airflow.operator_helpers import (
    COUNT_JOB,
    RAN,
    SPAWN_JOB,
    FakeTI,
    configured_fixture,  # noqa: F401 - the fixture `configured`
)


def test_on_kill_outside_execute_does_nothing(configured: Path) -> None:
    operator = TaskCenterJobOperator(
        task_id="job", job_class=SPAWN_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1"
    )
    operator.on_kill()  # e.g. after an execution timeout already ended execute


def _operator() -> TaskCenterJobOperator:
    return TaskCenterJobOperator(
        task_id="job", job_class=SPAWN_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1"
    )


def test_a_cancel_stops_the_job_at_its_next_checkpoint(configured: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps with side effects: none begins once the cancel is seen."""
    steps: list[int] = []
    ti = FakeTI()

    def stepwise(job: Any) -> None:
        for step in range(100):
            job.checkpoint(f"step {step}")
            steps.append(step)
            if step == 2:
                ti.xcoms[CANCEL_REQUEST_KEY] = {"by": "bob", "at": "2026-12-03T08:00:00+00:00"}
        raise AssertionError("the runner was not stopped")

    monkeypatch.setattr(operator_helpers, "spawn_and_wait", stepwise)  # the runner `configured` names
    with pytest.raises(AirflowFailException, match="cancel requested by bob"):
        _operator().execute({"ti": ti, "run_id": "manual__1"})
    assert steps == [0, 1, 2]
    assert CANCEL_STOPPED_KEY in ti.xcoms


def test_a_cancel_that_comes_after_the_job_finished_changes_nothing(
    configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ti = FakeTI()

    def finishes(job: Any) -> str:
        ti.xcoms[CANCEL_REQUEST_KEY] = {"by": "carol", "at": "2026-12-03T08:00:00+00:00"}  # as it returns
        return "done"

    monkeypatch.setattr(operator_helpers, "spawn_and_wait", finishes)  # the runner `configured` names
    assert _operator().execute({"ti": ti, "run_id": "manual__1"}) == "done"
    assert CANCEL_STOPPED_KEY not in ti.xcoms
    logged = capsys.readouterr().out  # the task's log (structlog writes it to stdout here)
    assert "cancel requested by carol at 2026-12-03T08:00:00+00:00 came too late: the job had finished" in logged
    assert "stopping the job" not in logged


class FakeStateStore:
    """Airflow's task state store as a task sees it: keys kept across the tries of a task instance."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        self.values[key] = value


def _counting(retries: int) -> TaskCenterJobOperator:
    return TaskCenterJobOperator(
        task_id="job", job_class=COUNT_JOB, job_params={}, entity_group="NOTEBOOK", entity_key="1", retries=retries
    )


def _execute(operator: TaskCenterOperator, ti: FakeTI, store: FakeStateStore | None) -> Any:
    context: dict[str, Any] = {"ti": ti, "run_id": "manual__1"}
    if store is not None:
        context["task_state_store"] = store
    return operator.execute(context)


@pytest.mark.parametrize(
    ("retries", "max_tries", "try_number", "started_before"),
    [
        (0, 0, 1, None),  # the first try
        (1, 1, 2, 1),  # a retry retryTimes allows, after a failed or an interrupted try
        (0, 0, 2, None),  # the first try was only queued when the scheduler died: it never started
        (1, 1, 3, 1),  # ... one never-started try and one that started: one left
        (1, 3, 3, 2),  # cleared in the Airflow UI after two tries: max_tries grants two more
    ],
)
def test_a_try_with_tries_left_runs_the_job_and_counts_itself(
    configured: Path, retries: int, max_tries: int, try_number: int, started_before: int | None
) -> None:
    store = FakeStateStore({} if started_before is None else {TRIES_STARTED_KEY: started_before})
    assert _execute(_counting(retries), FakeTI(try_number=try_number, max_tries=max_tries), store) == "ran"
    assert RAN == [try_number]
    assert store.values[TRIES_STARTED_KEY] == (started_before or 0) + 1


def test_a_try_that_never_started_is_named_in_the_log(configured: Path) -> None:
    with capture_logs() as logs:
        _execute(_counting(0), FakeTI(try_number=2, max_tries=0), FakeStateStore())
    assert any(
        "try 2: 1 earlier try ended before starting (queued when the scheduler stopped)" in e["event"] for e in logs
    ), logs


@pytest.mark.parametrize(
    ("retries", "try_number", "started_before", "line"),
    [
        (0, 2, 1, "try 2 not run: 1 try of this run already started, the last one interrupted"),
        (1, 3, 2, "try 3 not run: 2 tries of this run already started, the last one interrupted"),
        (1, 4, 2, "try 4 not run: 2 tries of this run already started"),  # a queued-only try between
    ],
)
def test_after_an_interrupted_try_with_no_try_left_the_run_ends_failed_without_the_job(
    configured: Path, retries: int, try_number: int, started_before: int, line: str
) -> None:
    store = FakeStateStore({TRIES_STARTED_KEY: started_before})
    with capture_logs() as logs, pytest.raises(AirflowFailException, match=line):  # no retry
        _execute(_counting(retries), FakeTI(try_number=try_number, max_tries=retries), store)
    assert RAN == []
    assert store.values == {TRIES_STARTED_KEY: started_before}  # the failed check is no try of the job
    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert len(errors) == 1 and errors[0]["event"].startswith(line), logs
    assert errors[0]["event"].endswith(
        f"(its worker, the scheduler or the whole product stopped), and retryTimes {retries} allows "
        f"{retries + 1} in all; "
        "this run ends FAILED"
    )


def test_without_a_state_store_every_earlier_try_counts(configured: Path) -> None:
    """Outside Airflow's task runner (no store) the try number is all there is to go by."""
    assert _execute(_counting(0), FakeTI(try_number=1), None) == "ran"  # no max_tries: `retries` stands in
    with pytest.raises(AirflowFailException, match="try 2 not run"):
        _execute(_counting(0), FakeTI(try_number=2), None)
    assert _execute(_counting(1), FakeTI(try_number=2, max_tries=1), None) == "ran"
    assert RAN == [1, 2]
