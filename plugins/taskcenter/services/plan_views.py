"""Plans as the API shows them (执行计划): read one, list a page with totals, list creators.

A view joins what the store holds with the catalog's entity, the users' names, the DAG's pause
state and newest run on Airflow, and the plan's next fire time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from taskcenter.domain.catalog import DATASET_COVERING_GROUPS, Entity, covered_datasets
from taskcenter.domain.errors import InvalidInputError, NotFoundError
from taskcenter.domain.plans import Plan, PlanItem, PlanQuery
from taskcenter.domain.runs import JobStatus, Run, cost_seconds, job_status
from taskcenter.domain.users import UserInfo
from taskcenter.services.ports import Ports, UserDirectory
from taskcenter.services.publishing import next_fire, with_dag_state

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    id: int
    status: JobStatus
    start_at: datetime | None
    stop_at: datetime | None
    cost_time: int | None


@dataclass(frozen=True, kw_only=True)
class PlanView:
    """A plan with everything its wire form shows, from the store, the catalog, users and Airflow."""

    plan: Plan
    items: tuple[PlanItem, ...]
    entity: Entity | None
    entity_created_by_name: str | None
    next_start_at: datetime | None
    latest_run: RunSummary | None
    context_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class PlanListing:
    total: int
    views: tuple[PlanView, ...]
    total_disk_usage: int
    total_datasets: int


def check_page(query: PlanQuery) -> None:
    """`offset` >= 0 and `limit` within 1..MAX_PAGE_SIZE, for every listing."""
    if query.offset < 0:
        raise InvalidInputError("offset: must be 0 or more", field="offset")
    if not 1 <= query.limit <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"limit: must be between 1 and {MAX_PAGE_SIZE}", field="limit")


def entity_creator_names(entities: Iterable[Entity | None], users: UserDirectory) -> dict[tuple[str, str], str | None]:
    """Creator name of each entity: the catalog's, else the user's name (one user lookup for all)."""
    known = [e for e in entities if e is not None]
    missing = sorted({e.created_by for e in known if e.created_by is not None and not e.created_by_name})
    found = users.get_many(missing) if missing else {}
    return {
        e.key_ref: e.created_by_name or (found[e.created_by].name if e.created_by in found else None) for e in known
    }


def users_in_order(user_ids: Sequence[int], users: UserDirectory) -> list[UserInfo]:
    """These users, in this order (one lookup); an id that names no user any more is left out."""
    found = users.get_many(user_ids) if user_ids else {}
    return [found[i] for i in user_ids if i in found]


def run_summary(run: Run, *, cancelled: bool, now: datetime) -> RunSummary:
    return RunSummary(
        id=run.id,
        status=job_status(run.state, cancelled=cancelled),
        start_at=run.start_date,
        stop_at=run.end_date,
        cost_time=cost_seconds(run.start_date, run.end_date, now=now),
    )


def no_plan(plan_id: int) -> NotFoundError:
    """The answer to a path naming a plan that does not exist (any more)."""
    return NotFoundError(f"scheduleId: no plan with id {plan_id}", field="scheduleId")


def existing_plan(ports: Ports, plan_id: int) -> Plan:
    plan = ports.store.get(plan_id)
    if plan is None:
        raise no_plan(plan_id)
    return plan


class PlanViews:
    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    def get_plan(self, plan_id: int) -> PlanView:
        return self.views([existing_plan(self._ports, plan_id)])[0]

    def list_plans(self, query: PlanQuery) -> PlanListing:
        """One page of the matching plans; the totals cover every match, each dataset counted once.

        Filters, job status included, and the count run in SQL; only the page's plans are read in
        full. The dataset totals read the entities of the matching dataset and app plans (their
        datasets and sizes are the catalog's, not the database's).
        """
        check_page(query)
        store, catalog = self._ports.store, self._ports.catalog
        total, refs = store.totals(query, groups=DATASET_COVERING_GROUPS)
        page = store.page(query)
        datasets = covered_datasets(catalog, (catalog.get(r.entity_group, r.entity_key) for r in refs))
        return PlanListing(
            total=total,
            views=self.views(page),
            total_disk_usage=sum(d.disk_usage or 0 for d in datasets),
            total_datasets=len(datasets),
        )

    def users(self, query: PlanQuery) -> list[UserInfo]:
        """The creators of the matching plans' entities, each once, in the order of their first plan.

        The creator recorded on each plan (copied from the catalog with every write of the plan),
        the same value `entityCreatedByList` filters on.
        """
        return users_in_order(self._ports.store.entity_creators(query), self._ports.users)

    def views(
        self,
        plans: Sequence[Plan],
        *,
        dag_state_read: bool = False,
        next_fires: Mapping[int, datetime | None] | None = None,
    ) -> tuple[PlanView, ...]:
        """The plans' views. `dag_state_read`: the plans' `enabled` already follows their DAGs;
        `next_fires`: next fire times the caller computed already (a write publishing the plan)."""
        ports = self._ports
        now = ports.clock()
        if not dag_state_read:
            plans = with_dag_state(plans, ports.dags)
        runs = ports.runs.latest([p.id for p in plans])
        cancelled = ports.cancels.cancelled(list(runs.values())) if runs else set()
        entities = {p.id: ports.catalog.get(p.entity_group, p.entity_key) for p in plans}
        names = entity_creator_names(entities.values(), ports.users)
        fires = next_fires or {}
        views = []
        for plan in plans:
            entity = entities[plan.id]
            run = runs.get(plan.id)
            views.append(
                PlanView(
                    plan=plan,
                    items=plan.triggers,
                    entity=entity,
                    entity_created_by_name=None if entity is None else names.get(entity.key_ref),
                    next_start_at=fires[plan.id] if plan.id in fires else next_fire(plan, now=now),
                    latest_run=None if run is None else run_summary(run, cancelled=run.id in cancelled, now=now),
                )
            )
        return tuple(views)

    def summary(self, run: Run) -> RunSummary:
        """One run's summary, its cancel record read."""
        cancelled = self._ports.cancels.cancelled([run])
        return run_summary(run, cancelled=run.id in cancelled, now=self._ports.clock())
