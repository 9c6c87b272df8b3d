"""FastAPI dependencies that hand routes their services, bound to the request's DB session."""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.common.db.common import SessionDep
from fastapi import Depends

from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.services.plans import PlanService


def plan_service(session: SessionDep) -> PlanService:
    return PlanService(store=PlanRepository(session))


PlanServiceDep = Annotated[PlanService, Depends(plan_service)]
