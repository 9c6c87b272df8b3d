"""FastAPI dependencies that hand routes their services, bound to the request's DB session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Annotated

from airflow.api_fastapi.common.db.common import SessionDep
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api_plugin.guard import attempt_of
from api_plugin.security import CallerDep
from taskcenter.adapters.airflow.dag_files import PlanDagFiles, configured_dag_files
from taskcenter.adapters.airflow.gateway import AirflowGateway, RunQueries, wait_for_run_end
from taskcenter.adapters.airflow.run_outputs import RunOutputs
from taskcenter.adapters.airflow.plan_dags import AirflowPlanDags
from taskcenter.adapters.catalog import api_catalog
from taskcenter.adapters.store.cancels import CancelRepository
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.adapters.users import FabUserDirectory
from taskcenter.services.contexts import ContextService
from taskcenter.services.plans import Caller, PlanService, PlanSettings

log = logging.getLogger(__name__)


@cache
def _dag_files() -> PlanDagFiles:
    return configured_dag_files()


def _settings() -> PlanSettings:
    from taskcenter.adapters import config

    declared = config.job_classes()
    runners = config.job_runners()
    return PlanSettings(
        parse_timeout=config.parse_timeout(),
        sync_timeout=config.sync_timeout(),
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


def plan_service(session: SessionDep, request: Request) -> PlanService:
    return PlanService(
        store=PlanRepository(session),
        catalog=api_catalog(),
        dags=AirflowPlanDags(session, _dag_files()),
        users=FabUserDirectory(session),
        commit=committing(session, request),
        settings=_settings(),
        cancels=CancelRepository(session),
    )


def caller(api_caller: CallerDep) -> Caller:
    return Caller(user_id=api_caller.user_id, name=api_caller.name)


PlanServiceDep = Annotated[PlanService, Depends(plan_service)]
ServiceCallerDep = Annotated[Caller, Depends(caller)]


def context_service(session: SessionDep, request: Request) -> ContextService:
    return ContextService(
        plans=PlanRepository(session),
        runs=_ContextRuns(session),
        cancels=CancelRepository(session),
        catalog=api_catalog(),
        users=FabUserDirectory(session),
        commit=committing(session, request),
        outputs=_Outputs(session),
        block_timeout=_block_timeout(),
    )


def _block_timeout() -> float:
    from taskcenter.adapters import config

    return config.logs_block_timeout()


class _Outputs(RunOutputs):
    def wait_for_end(self, run_pk: int, *, timeout: float):  # type: ignore[no-untyped-def]
        return wait_for_run_end(run_pk, timeout=timeout)


class _ContextRuns(RunQueries):
    """Run reads and changes for contexts: one run by id plus the list/cancel queries."""

    def __init__(self, session: SessionDep) -> None:  # type: ignore[valid-type]
        super().__init__(session)
        self._gateway = AirflowGateway(session)

    def run(self, run_pk: int):  # type: ignore[no-untyped-def]
        return self._gateway.run(run_pk)


ContextServiceDep = Annotated[ContextService, Depends(context_service)]
