"""Which plan a request acts on, for authorization: the plan a path, a context or an entity names."""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.common.db.common import SessionDep
from fastapi import Depends
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.gateway import AirflowGateway
from taskcenter.adapters.store.plans import PlanRepository
from taskcenter.domain.plans import EntityRef


class PlanTargets:
    """Reads in the request's own session (one indexed query each)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def plan_of_entity(self, ref: EntityRef) -> int | None:
        return PlanRepository(self._session).id_of(ref)

    def plan_of_run(self, run_pk: int) -> int | None:
        return AirflowGateway(self._session).plan_of_run(run_pk)


def plan_targets(session: SessionDep) -> PlanTargets:
    return PlanTargets(session)


PlanTargetsDep = Annotated[PlanTargets, Depends(plan_targets)]
