"""After the commit of a write that held its plan's row, the plan's file is checked, not rebuilt:
it is synced again only when another request rewrote it or changed who waits for the plan's end.
On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow import plan_dags
from taskcenter.adapters.airflow.dag_files import PlanDagFiles, render
from taskcenter.adapters.airflow.dag_spec import plan_spec
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.plan_requests import ItemRequest
from taskcenter.domain.plans import DependencyTrigger, EntityRef, ExecDetail, Plan, TriggerType
from tests.component.databases import session_for

pytest_plugins = ("tests.component.database_fixtures",)  # `engine`: SQLite and PostgreSQL

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
DETAIL = ExecDetail(
    job_class="com.hengshi.nangaparbat.schedulejob.NotebookJob", job_params={"notebook": 1}, retry_times=0
)


def create(db: Session, key: str, *items: ItemRequest) -> Plan:
    plan = PlanRepository(db).create(
        ref=EntityRef(entity_group="NOTEBOOK", entity_key=key),
        exec_detail=DETAIL,
        enabled=True,
        items=items,
        title=f"notebook {key}",
        entity_created_by=1,
        user_id=None,
        now=NOW,
    )
    assert plan is not None
    return plan


@pytest.fixture
def synced(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The plans whose file was synced from the DB; Airflow's sessions are this engine's."""

    @contextlib.contextmanager
    def create_session() -> Iterator[Session]:
        with session_for(engine) as session:
            yield session
            session.commit()

    monkeypatch.setattr("airflow.utils.session.create_session", create_session)
    calls: list[int] = []
    monkeypatch.setattr(plan_dags, "sync_plan_file", lambda files, plan_id: calls.append(plan_id))
    return calls


def written_plan(engine: sa.Engine, tmp_path: Path) -> tuple[PlanDagFiles, Plan, str]:
    """A committed plan whose file holds what its request rendered (the state after its commit)."""
    files = PlanDagFiles(bundle_name="taskcenter-plans", bundle_path=tmp_path, subfolder="")
    with session_for(engine) as db:
        plan = create(db, "1")
        db.commit()
    content = render(plan_spec(plan, owner=None))
    files.write_content(plan.id, content)
    return files, plan, content


def test_a_file_still_as_written_is_left_alone(engine: sa.Engine, tmp_path: Path, synced: list[int]) -> None:
    files, plan, content = written_plan(engine, tmp_path)

    plan_dags.confirm_plan_file(files, plan, content=content, emit_finished=False)
    assert synced == []

    files.write_content(plan.id, content + "# another request's version\n")
    plan_dags.confirm_plan_file(files, plan, content=content, emit_finished=False)
    assert synced == [plan.id]


def test_a_plan_that_started_waiting_for_its_end_meanwhile_is_synced(
    engine: sa.Engine, tmp_path: Path, synced: list[int]
) -> None:
    files, upstream, content = written_plan(engine, tmp_path)
    with session_for(engine) as db:  # another request, committed before ours: waits for the end
        waiting = ItemRequest(
            trigger_type=TriggerType.DEPENDENCY, trigger_by_jobs=(upstream.ref,), trigger_on=DependencyTrigger.FINISHED
        )
        create(db, "2", waiting)
        db.commit()

    plan_dags.confirm_plan_file(files, upstream, content=content, emit_finished=False)
    assert synced == [upstream.id]
