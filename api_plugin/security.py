"""Authorization of compat requests: per plan, by Airflow's own auth manager (docs/api.md).

A plan is a DAG, so what a caller may do is what Airflow lets them do with the plan's DAG: read
plans with DAG read access, change them with DAG edit access, delete them with DAG delete access,
run them now with DAG-run create access, cancel with DAG-run edit access, read logs and results
with task-log and XCom read access. A refusal is 403. (Authentication: `deps.CallerDep`.)

Per DAG, on every path, as Airflow's own API does: a route that names a plan (its id, a context
of it, its entity in the body) is authorized against that plan's DAG; a list shows only the plans
whose DAG the caller may read (`readable_plans`), totals included. A target that does not exist is
authorized as "every DAG", so a caller granted some DAGs learns nothing about the others.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Request

from api_plugin.datamodels.paths import parse_path_id
from api_plugin.deps import DAG_ACCESS, CallerDep, PlanTargets, PlanTargetsDep
from taskcenter.domain.errors import PermissionDeniedError
from taskcenter.domain.plans import EntityRef
from taskcenter.domain.users import Caller

Method = Literal["GET", "POST", "PUT", "DELETE"]
Entity = Literal["RUN", "TASK_LOGS", "XCOM"]

# What each (method, DAG sub-entity) lets a caller do, for the 403 message.
_ACTIONS = {
    ("GET", None): "read plans (Airflow: read DAGs)",
    ("PUT", None): "change plans (Airflow: edit DAGs)",
    ("DELETE", None): "delete plans (Airflow: delete DAGs)",
    ("GET", "RUN"): "read execution contexts (Airflow: read DAG runs)",
    ("POST", "RUN"): "run plans now (Airflow: create DAG runs)",
    ("PUT", "RUN"): "cancel runs (Airflow: edit DAG runs)",
    ("GET", "TASK_LOGS"): "read run logs (Airflow: read task logs)",
    ("GET", "XCOM"): "read run results (Airflow: read XComs)",
}


def authorize(caller: Caller, *, method: Method, entity: Entity | None = None, plan_id: int | None = None) -> None:
    """Raise 403 unless Airflow's auth manager lets the caller do this to the plan's DAG; without a
    plan (a new one, or a target that does not exist), to every DAG."""
    if not DAG_ACCESS.may(caller, method=method, entity=entity, plan_id=plan_id):
        _refuse(caller, method=method, entity=entity)


def _refuse(caller: Caller, *, method: Method, entity: Entity | None) -> None:
    action = _ACTIONS.get((method, entity), f"{method} {entity or 'DAGs'}")
    raise PermissionDeniedError(f"forbidden: user {caller.name!r} may not {action}")


def authorize_entity(
    caller: Caller, targets: PlanTargets, ref: EntityRef, *, method: Method, entity: Entity | None = None
) -> int | None:
    """`authorize` for the plan of an entity named in a body; returns that plan's id (None: none yet)."""
    plan_id = targets.plan_of_entity(ref)
    authorize(caller, method=method, entity=entity, plan_id=plan_id)
    return plan_id


def readable_plans(caller: Caller) -> frozenset[int] | None:
    """The plans whose DAG the caller may read (None: every DAG, so no filter is needed)."""
    return DAG_ACCESS.readable_plans(caller)


def _readable_plans(caller: CallerDep) -> frozenset[int] | None:
    return readable_plans(caller)


ReadablePlansDep = Annotated[frozenset[int] | None, Depends(_readable_plans)]


def requires(method: Method, entity: Entity | None = None) -> Any:
    """A route dependency: `authorize` for the plan the path names (`scheduleId`, or the plan of
    `contextId`); on a path that names none (a list), the caller needs the access for some DAG,
    and the list itself shows only the readable plans."""

    def check(request: Request, caller: CallerDep, targets: PlanTargetsDep) -> None:
        params = request.path_params
        if "scheduleId" in params:
            plan_id = parse_path_id(params["scheduleId"], field="scheduleId", what="plan")
            authorize(caller, method=method, entity=entity, plan_id=plan_id)
        elif "contextId" in params:
            run_pk = parse_path_id(params["contextId"], field="contextId", what="context")
            authorize(caller, method=method, entity=entity, plan_id=targets.plan_of_run(run_pk))
        elif not DAG_ACCESS.may_on_some(caller, method=method, entity=entity):
            _refuse(caller, method=method, entity=entity)

    return Depends(check)
