"""FastAPI dependencies: the wiring of adapters to services, bound to the request's DB session.

The only module of the HTTP layer that names adapters: routes, datamodels and `security` get
services, the caller, the plans' DAG access and the display zone from here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from functools import cache
from typing import Annotated

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import bearer_scheme
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from api_plugin.guard import attempt_of
from taskcenter.adapters.airflow.auth import DagAccess, authenticate
from taskcenter.adapters.airflow.dag_files import PlanDagFiles, configured_dag_files
from taskcenter.adapters.airflow.plan_dags import AirflowPlanDags
from taskcenter.adapters.airflow.runs import AirflowRuns
from taskcenter.adapters.airflow.users import FabUserDirectory
from taskcenter.adapters.catalog import api_catalog
from taskcenter.adapters.config import display_zone
from taskcenter.adapters.store.cancels import CancelRepository
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.plans import EntityRef
from taskcenter.domain.users import Caller
from taskcenter.services.contexts import ContextService
from taskcenter.services.plan_views import PlanViews
from taskcenter.services.plan_writes import PlanWrites
from taskcenter.services.ports import Ports, ServiceSettings

# What Airflow's auth manager lets callers do with plans' DAGs (stateless).
DAG_ACCESS = DagAccess()


@cache
def _dag_files() -> PlanDagFiles:
    return configured_dag_files()


def _settings() -> ServiceSettings:
    from taskcenter.adapters import config

    declared = config.job_classes()
    runners = config.job_runners()
    return ServiceSettings(
        parse_timeout=config.parse_timeout(),
        sync_timeout=config.sync_timeout(),
        logs_block_timeout=config.logs_block_timeout(),
        # A job class is accepted only with a runner registered for it: no plan that cannot run.
        job_classes={job_class: group for job_class, group in declared.items() if job_class in runners},
    )


def committing(session: Session, request: Request) -> Callable[[], None]:
    """The services' commit. It marks the request's attempt first (a commit that fails half way may
    have stored something), so that `RequestGuard` does not run a write again once it may have."""
    attempt = attempt_of(request.scope)

    def commit() -> None:
        attempt.committed = True
        session.commit()

    return commit


def ports(session: SessionDep, request: Request) -> Ports:
    """One request's ports: every adapter on the request's session, one user cache."""
    return Ports(
        store=PlanRepository(session),
        catalog=api_catalog(),
        dags=AirflowPlanDags(session, _dag_files()),
        runs=AirflowRuns(session),
        cancels=CancelRepository(session),
        users=FabUserDirectory(session),
        commit=committing(session, request),
    )


PortsDep = Annotated[Ports, Depends(ports)]


def plan_writes(request_ports: PortsDep) -> PlanWrites:
    return PlanWrites(request_ports, settings=_settings())


def plan_views(request_ports: PortsDep) -> PlanViews:
    return PlanViews(request_ports)


def context_service(request_ports: PortsDep) -> ContextService:
    return ContextService(request_ports, settings=_settings())


PlanWritesDep = Annotated[PlanWrites, Depends(plan_writes)]
PlanViewsDep = Annotated[PlanViews, Depends(plan_views)]
ContextServiceDep = Annotated[ContextService, Depends(context_service)]


async def current_caller(
    request: Request, bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> Caller:
    return await authenticate(request, bearer)


CallerDep = Annotated[Caller, Depends(current_caller)]


def zone() -> tzinfo:
    return display_zone()


def max_waiting_requests() -> int:
    """How many requests may wait for a run at once (`api_plugin.blocking`)."""
    from taskcenter.adapters import config

    return config.max_waiting_requests()


DisplayZoneDep = Annotated[tzinfo, Depends(zone)]


class PlanTargets:
    """Which plan a request acts on, for authorization: the plan an entity or a context names
    (one indexed read each, in the request's own session)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def plan_of_entity(self, ref: EntityRef) -> int | None:
        return PlanRepository(self._session).id_of(ref)

    def plan_of_run(self, run_pk: int) -> int | None:
        return AirflowRuns(self._session).plan_of_run(run_pk)


def plan_targets(session: SessionDep) -> PlanTargets:
    return PlanTargets(session)


PlanTargetsDep = Annotated[PlanTargets, Depends(plan_targets)]
