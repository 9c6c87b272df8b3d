"""The services over the real plan store (SQLite in memory) and doubles for Airflow and users.

The store is the real `PlanRepository` on taskcenter's own tables, so these tests exercise the
services' SQL-visible behaviour (nothing stored, take-backs, revisions); only what needs a running
Airflow (DAGs, runs) is a double, recording what the service asked of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG, FileEntityCatalog
from taskcenter.adapters.store.models import Base, LockRow
from taskcenter.adapters.store.plans import PLAN_GRAPH_LOCK, PlanRepository
from taskcenter.domain.errors import ServiceUnavailableError
from taskcenter.domain.plan_requests import UpdatePlan, WritePlan
from taskcenter.domain.plans import Plan
from taskcenter.domain.runs import Run
from taskcenter.domain.users import Caller, Role, UserInfo
from taskcenter.services.plan_views import PlanViews
from taskcenter.services.plan_writes import PlanWrites
from taskcenter.services.ports import Ports, ServiceSettings

NOW = datetime(2026, 12, 1, 10, 0, 5, tzinfo=timezone.utc)
ADMIN = Caller(user_id=1, name="admin")


def write_command(body: dict[str, Any]) -> WritePlan:
    """The command the HTTP layer makes of this `POST /api/schedules` body."""
    from api_plugin.datamodels.schedules import CreatePlanBody

    return CreatePlanBody.model_validate(body).to_command()


def update_command(body: dict[str, Any]) -> UpdatePlan:
    """The command the HTTP layer makes of this `PUT /api/schedules/{id}` body."""
    from api_plugin.datamodels.schedules import UpdatePlanBody

    return UpdatePlanBody.model_validate(body).to_command()


def fake_run(run_pk: int, run_id: str, *, plan_id: int = 1, state: str | None = "queued", **facts: Any) -> Run:
    return Run(id=run_pk, plan_id=plan_id, dag_id=f"taskcenter_plan_{plan_id}", run_id=run_id, state=state, **facts)


@dataclass
class FakeDags:
    """The plans' DAGs and their runs as the services see them; `fail_start` makes Airflow refuse
    the next run. (The `PlanDags` port, and the part of the `Runs` port the plan services use.)"""

    published: dict[int, Plan] = field(default_factory=dict)
    unpublished: list[int] = field(default_factory=list)
    paused_dags: dict[int, bool] = field(default_factory=dict)
    runs: dict[int, Run] = field(default_factory=dict)
    paused_reads: int = 0
    started: list[tuple[int, int]] = field(default_factory=list)
    fail_start: bool = False

    def publish(
        self,
        plan: Plan,
        *,
        owner: str | None,
        next_run: datetime | None,
        emit_finished: bool = False,
        row_written: bool = False,
    ) -> None:
        self.published[plan.id] = plan
        self.paused_dags[plan.id] = not plan.enabled

    def unpublish(self, plan_id: int) -> None:
        self.unpublished.append(plan_id)
        self.published.pop(plan_id, None)
        self.paused_dags.pop(plan_id, None)

    def paused(self, plan_ids: Iterable[int]) -> dict[int, bool]:
        self.paused_reads += 1
        return {i: self.paused_dags[i] for i in plan_ids if i in self.paused_dags}

    def latest(self, plan_ids: Iterable[int]) -> dict[int, Run]:
        return {i: self.runs[i] for i in plan_ids if i in self.runs}

    def start_run(self, plan: Plan, *, item_id: int, user_name: str | None, parse_timeout: float) -> Run:
        if self.fail_start:
            raise ServiceUnavailableError("the plan's DAG was not parsed in time")
        run = fake_run(100 + len(self.started), f"manual__{len(self.started)}", plan_id=plan.id)
        self.started.append((plan.id, item_id))
        self.runs[plan.id] = run
        return run

    def wait_for_end(self, run_pk: int, *, timeout: float) -> Run | None:
        for plan_id, run in self.runs.items():
            if run.id == run_pk:
                ended = dataclasses.replace(run, state="success", start_date=NOW, end_date=NOW + timedelta(seconds=3))
                self.runs[plan_id] = ended
                return ended
        return None


class NoCancels:
    """Cancel records of a world where nothing was ever cancelled."""

    def record(self, runs: Sequence[Run], **_: Any) -> None:
        raise AssertionError("the plan services record no cancel")

    def cancelled(self, runs: Sequence[Run]) -> set[int]:
        return set()

    def forget_plan(self, plan_id: int) -> None:
        pass


def plan_ports(session: Session, dags: FakeDags, **overrides: Any) -> Ports:
    """The ports of one request: the real store on `session`, doubles for Airflow and users."""
    values: dict[str, Any] = {
        "store": PlanRepository(session),
        "catalog": FileEntityCatalog(DEMO_CATALOG),
        "dags": dags,
        "runs": dags,
        "cancels": NoCancels(),
        "users": FakeUsers(),
        "commit": session.commit,
        "clock": lambda: NOW,
    }
    return Ports(**{**values, **overrides})


SETTINGS = ServiceSettings(parse_timeout=30.0, sync_timeout=3600.0, logs_block_timeout=600.0)


class PlanServices:
    """The plan services of one request, as the routes use them: writes and views."""

    def __init__(self, ports: Ports, settings: ServiceSettings = SETTINGS) -> None:
        self.ports = ports
        self.writes = PlanWrites(ports, settings=settings)
        self.views = PlanViews(ports)
        self.write_plan = self.writes.write_plan
        self.update_plan = self.writes.update_plan
        self.set_enabled = self.writes.set_enabled
        self.delete_plan = self.writes.delete_plan
        self.get_plan = self.views.get_plan
        self.list_plans = self.views.list_plans
        self.users = self.views.users

    def at(self, now: datetime) -> PlanServices:
        """The same services on a clock that says `now`."""
        return PlanServices(dataclasses.replace(self.ports, clock=lambda: now))


class FakeUsers:
    def get_many(self, user_ids: Sequence[int]) -> dict[int, UserInfo]:
        return {
            i: UserInfo(
                id=i,
                login_name="admin",
                name="Task Center",
                email="admin@example.invalid",
                enabled=True,
                roles=(Role(id=1, name="Admin"),),
            )
            for i in user_ids
            if i == 1
        }

    def ids_by_login(self, logins: Sequence[str]) -> dict[str, int]:
        return {"admin": 1} if "admin" in logins else {}


@pytest.fixture
def session() -> Iterator[Session]:
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add(LockRow(name=PLAN_GRAPH_LOCK, revision=0))
        db.commit()
        yield db
    engine.dispose()


@pytest.fixture
def dags() -> FakeDags:
    return FakeDags()


@pytest.fixture
def service(session: Session, dags: FakeDags) -> PlanServices:
    return PlanServices(plan_ports(session, dags))


def stored_plans(session: Session) -> list[Plan]:
    """Every plan as the DB holds it now (SQLite hands datetimes back without their zone)."""
    session.expire_all()
    return PlanRepository(session).all()


def stored(session: Session, plan_id: int) -> Plan | None:
    session.expire_all()
    return PlanRepository(session).get(plan_id)


def cron(expression: str, **extra: Any) -> dict[str, Any]:
    return {"triggerType": "CRON_JOB", "cronDesc": expression, "timeZone": "UTC", **extra}
