"""Reads and writes plans in taskcenter's tables; maps rows to domain values.

Concurrency: `(entity_group, entity_key)` is unique, so two concurrent creates of one plan cannot
both insert (the loser updates the winner's row); every plan row carries a revision
(`version_id_col`), so of two concurrent updates one fails with `ConflictError` instead of
silently overwriting the other (adding a run-now item bumps the revision too, so a run cannot
start on a plan a concurrent request just disabled); writes that add DEPENDENCY items take the
`plan_graph` lock first (`lock_plan_graph`), so concurrent writes cannot together store a cycle.
A write to a plan that a concurrent request deleted is `NotFoundError`. No database error of a
collision leaves this module: callers see a plan or a domain error.

A plan read loads only its current triggers (`PlanRow.triggers`); a replaced trigger is kept with
`removed_at` set, and run-now (ONCE) items are history, so a context can still name the item that
started its run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BindParameter, Select, bindparam, case, delete, false, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from taskcenter.adapters.airflow.naming import dag_id_for
from taskcenter.adapters.store.models import LockRow, PlanItemRow, PlanRow, PlanUpstreamRow
from taskcenter.adapters.store.transactions import savepoint
from taskcenter.domain.errors import ConflictError, NotFoundError
from taskcenter.domain.limits import TITLE_LENGTH
from taskcenter.domain.plan_requests import ItemRequest
from taskcenter.domain.plans import DependencyTrigger, EntityRef, ExecDetail, Plan, PlanItem, PlanQuery, TriggerType

PLAN_GRAPH_LOCK = "plan_graph"

log = logging.getLogger(__name__)


def _gone(plan_id: int) -> NotFoundError:
    return NotFoundError(
        f"scheduleId: no plan with id {plan_id} (deleted by another request at the same time)", field="scheduleId"
    )


class PlanRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- reads ---------------------------------------------------------------------------------

    def get(self, plan_id: int) -> Plan | None:
        row = self._row(plan_id)
        return None if row is None else _to_plan(row)

    def get_by_entity(self, ref: EntityRef) -> Plan | None:
        row = self._session.scalar(
            select(PlanRow)
            .where(PlanRow.entity_group == ref.entity_group, PlanRow.entity_key == ref.entity_key)
            .options(selectinload(PlanRow.triggers))
        )
        return None if row is None else _to_plan(row)

    def id_of(self, ref: EntityRef) -> int | None:
        """The id of the entity's plan, if it has one (one indexed read, for authorization)."""
        return self._session.scalar(
            select(PlanRow.id).where(PlanRow.entity_group == ref.entity_group, PlanRow.entity_key == ref.entity_key)
        )

    def get_many(self, plan_ids: Sequence[int]) -> list[Plan]:
        """These plans, in id order (one query for the plans, one for their triggers)."""
        if not plan_ids:
            return []
        rows = self._session.scalars(
            select(PlanRow).where(PlanRow.id.in_(list(plan_ids))).options(selectinload(PlanRow.triggers)).order_by(PlanRow.id)
        ).all()
        return [_to_plan(row) for row in rows]

    # -- lists ---------------------------------------------------------------------------------
    # Each costs O(page): a few statements whatever the number of plans and runs, none with a
    # parameter list that grows with them; filters and counts in SQL, on indexes.

    def page(self, query: PlanQuery) -> list[Plan]:
        """The page of the matching plans (job status of the latest run included), in id order."""
        rows = self._session.scalars(
            self._matching(query, PlanRow)
            .order_by(PlanRow.id)
            .offset(query.offset)
            .limit(query.limit)
            .options(selectinload(PlanRow.triggers))
        ).all()
        return [_to_plan(row) for row in rows]

    def totals(self, query: PlanQuery, *, groups: Iterable[str]) -> tuple[int, list[EntityRef]]:
        """How many plans match, and the entities of those in `groups` (what listing totals need).

        One pass: the matching plans outside `groups` are counted in one group, those in `groups`
        come one row each; so a job-status filter is evaluated once for the count and the totals.
        """
        # The groups are the program's constants, written into the SQL: the statement repeats them.
        wanted = PlanRow.entity_group.in_(
            bindparam("groups", sorted(set(groups)), expanding=True, literal_execute=True)
        )
        group = case((wanted, PlanRow.entity_group))
        key = case((wanted, PlanRow.entity_key))
        rows = self._session.execute(self._matching(query, group, key, func.count(PlanRow.id)).group_by(group, key))
        total = 0
        refs: list[EntityRef] = []
        for entity_group, entity_key, count in rows:
            total += count
            if entity_group is not None:
                refs.append(EntityRef(entity_group=entity_group, entity_key=entity_key))
        return total, refs

    def entity_creators(self, query: PlanQuery, *, by_runs: bool = False) -> list[int]:
        """Who created the entities of the matching plans: each user id once, in the order of their
        first plan (a GROUP BY in SQL, so the answer grows with the users, not with the plans).

        `by_runs`: the plans with at least one run of the query's job statuses (any run, without
        statuses), as the contexts list reads them; else the job status of each plan's latest run.
        """
        statement = (
            self._matching(query, PlanRow.entity_created_by, by_runs=by_runs)
            .where(PlanRow.entity_created_by.is_not(None))
            .group_by(PlanRow.entity_created_by)
            .order_by(func.min(PlanRow.id))
        )
        return list(self._session.scalars(statement))

    def _matching(self, query: PlanQuery, *columns: Any, by_runs: bool = False) -> Select[Any]:
        """SELECT `columns` of the plans a list shows (`listed_plans`) whose runs have the query's
        job statuses: the latest run's (a plan without runs is NONE), or with `by_runs` any run's."""
        from airflow.models.dagrun import DagRun

        from taskcenter.adapters.store.cancels import job_status_condition

        statement = select(*columns).select_from(PlanRow).where(*listed_plans(query))
        if by_runs:
            run = aliased(DagRun, name="run")
            with_runs = select(run.id).where(run.dag_id == PlanRow.dag_id)
            if query.job_statuses:
                with_runs = with_runs.where(job_status_condition(run, query.job_statuses))
            return statement.where(with_runs.exists())
        if not query.job_statuses:
            return statement
        latest = aliased(DagRun, name="latest_run")
        # The newest run of the plan's DAG, looked up for each plan on an index: SQLite's of
        # `dag_run.dag_id` (which carries the id), PostgreSQL's of `(dag_id, id)` (migration 0007).
        # A grouped pass over all runs instead (Airflow's "last run state" filter) read every run,
        # and PostgreSQL's estimate of the cancel records then chose nested loops of seconds.
        newest = select(func.max(DagRun.id)).where(DagRun.dag_id == PlanRow.dag_id).correlate(PlanRow).scalar_subquery()
        return statement.outerjoin(latest, latest.id == newest).where(job_status_condition(latest, query.job_statuses))

    def all(self) -> list[Plan]:
        rows = self._session.scalars(select(PlanRow).options(selectinload(PlanRow.triggers)).order_by(PlanRow.id)).all()
        return [_to_plan(row) for row in rows]

    def _dependency_items(self, *, trigger_on: DependencyTrigger | None = None) -> list[tuple[EntityRef, PlanItemRow]]:
        """The live DEPENDENCY items with their plan's entity (`trigger_on`: only those); through
        the `(trigger_type, trigger_on)` index of migration 0008, not over every item."""
        statement = (
            select(PlanRow.entity_group, PlanRow.entity_key, PlanItemRow)
            .join(PlanItemRow, PlanItemRow.plan_id == PlanRow.id)
            .where(PlanItemRow.trigger_type == TriggerType.DEPENDENCY.value, PlanItemRow.removed_at.is_(None))
            .order_by(PlanItemRow.id)
        )
        if trigger_on is not None:
            statement = statement.where(PlanItemRow.trigger_on == trigger_on.value)
        return [
            (EntityRef(entity_group=group, entity_key=key), item)
            for group, key, item in self._session.execute(statement)
        ]

    def dependency_edges(self) -> dict[EntityRef, list[EntityRef]]:
        """plan entity -> its upstream entities, for every plan with DEPENDENCY triggers."""
        edges: dict[EntityRef, list[EntityRef]] = {}
        for owner, item in self._dependency_items():
            upstreams = edges.setdefault(owner, [])
            upstreams.extend(ref for ref in _to_item(item).trigger_by_jobs if ref not in upstreams)
        return edges

    def finished_upstreams(self) -> set[EntityRef]:
        """The entities some plan waits for to *end* in any state (triggerOn FINISHED).

        Read with every plan write: only FINISHED dependency items are read (most plans wait for
        success, if for anything), not every dependency item.
        """
        items = self._dependency_items(trigger_on=DependencyTrigger.FINISHED)
        return {ref for _owner, item in items for ref in _to_item(item).trigger_by_jobs}

    def finished_subscribers(self, ref: EntityRef) -> bool:
        """Whether any plan waits for this entity's runs to *end* (triggerOn FINISHED): one EXISTS."""
        waiting = self._waiting_for(ref).where(PlanItemRow.trigger_on == DependencyTrigger.FINISHED.value)
        return bool(self._session.scalar(select(waiting.exists())))

    def dependents(self, ref: EntityRef) -> list[EntityRef]:
        """The entities whose plans have a live DEPENDENCY item on this entity (an indexed lookup)."""
        rows = self._session.execute(
            self._waiting_for(ref)
            .with_only_columns(PlanRow.entity_group, PlanRow.entity_key)
            .join(PlanRow, PlanRow.id == PlanItemRow.plan_id)
            .distinct()
            .order_by(PlanRow.entity_group, PlanRow.entity_key)
        )
        return [EntityRef(entity_group=group, entity_key=key) for group, key in rows]

    @staticmethod
    def _waiting_for(ref: EntityRef) -> Select[Any]:
        """The live DEPENDENCY items that list this entity as an upstream (migration 0010's index)."""
        return (
            select(PlanItemRow.id)
            .join(PlanUpstreamRow, PlanUpstreamRow.item_id == PlanItemRow.id)
            .where(
                PlanUpstreamRow.entity_group == ref.entity_group,
                PlanUpstreamRow.entity_key == ref.entity_key,
                PlanItemRow.trigger_type == TriggerType.DEPENDENCY.value,
                PlanItemRow.removed_at.is_(None),
            )
        )

    def lock_plan_graph(self) -> None:
        """Serialize writers of DEPENDENCY triggers until this transaction ends (see migration 0006)."""
        self._session.execute(
            update(LockRow).where(LockRow.name == PLAN_GRAPH_LOCK).values(revision=LockRow.revision + 1)
        )

    def item(self, item_id: int) -> PlanItem | None:
        row = self._session.get(PlanItemRow, item_id)
        return None if row is None else _to_item(row)

    def items(self, item_ids: Iterable[int]) -> dict[int, PlanItem]:
        """These items by id (replaced and run-now items included): one query for a page of runs."""
        ids = sorted(set(item_ids))
        if not ids:
            return {}
        return {
            row.id: _to_item(row) for row in self._session.scalars(select(PlanItemRow).where(PlanItemRow.id.in_(ids)))
        }

    def _row(self, plan_id: int) -> PlanRow | None:
        return self._session.scalar(
            select(PlanRow).where(PlanRow.id == plan_id).options(selectinload(PlanRow.triggers))
        )

    # -- writes --------------------------------------------------------------------------------

    def create(
        self,
        *,
        ref: EntityRef,
        exec_detail: ExecDetail,
        enabled: bool,
        items: Iterable[ItemRequest],
        title: str | None,
        entity_created_by: int | None,
        user_id: int | None,
        now: datetime,
    ) -> Plan | None:
        """Insert a new plan; None when a concurrent request created the same entity's plan first."""
        row = PlanRow(
            entity_group=ref.entity_group,
            entity_key=ref.entity_key,
            enabled=enabled,
            job_class=exec_detail.job_class,
            job_params=dict(exec_detail.job_params),
            retry_times=exec_detail.retry_times,
            title=_title(title),
            entity_created_by=entity_created_by,
            created_at=now,
            created_by=user_id,
            updated_at=now,
            updated_by=user_id,
        )
        row.items = [_new_item(item, user_id=user_id, now=now) for item in items]
        try:
            with savepoint(self._session):
                self._session.add(row)
                self._session.flush()
                self._name_dag(row)
        except IntegrityError:
            if self.get_by_entity(ref) is not None:
                return None  # the same entity's plan, created by a concurrent request
            log.warning(
                "Creating the plan of %s %s collided with another write",
                ref.entity_group,
                ref.entity_key,
                exc_info=True,
            )
            raise ConflictError(
                f"the plan of {ref.entity_group} {ref.entity_key} was changed by another request at the same time; "
                "retry"
            ) from None
        return _to_plan(row)

    def _name_dag(self, row: PlanRow) -> None:
        """Store the new plan's DAG id, which needs the id the INSERT gave it (no new revision)."""
        dag_id = dag_id_for(row.id)
        self._session.execute(
            update(PlanRow)
            .where(PlanRow.id == row.id)
            .values(dag_id=dag_id)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(row, "dag_id", dag_id)

    def update(
        self,
        plan_id: int,
        *,
        exec_detail: ExecDetail | None = None,
        enabled: bool | None = None,
        items: Sequence[ItemRequest] | None = None,
        title: str | None = None,
        entity_created_by: int | None = None,
        user_id: int | None,
        now: datetime,
    ) -> Plan:
        """Change a plan; `items` (when given) replace its triggers as a whole, keeping the ids named.

        A write that changes nothing leaves the plan as it is: no new `updatedAt`, no new revision;
        it still claims the plan at the revision it read (see `_claim`), since what follows it (the
        DAG's pause state, the file) must not interleave with another request's change.
        """
        row = self._row(plan_id)
        if row is None:
            raise _gone(plan_id)
        changed = False
        if exec_detail is not None and (row.job_class, row.job_params, row.retry_times) != (
            exec_detail.job_class,
            dict(exec_detail.job_params),
            exec_detail.retry_times,
        ):
            row.job_class = exec_detail.job_class
            row.job_params = dict(exec_detail.job_params)
            row.retry_times = exec_detail.retry_times
            changed = True
        for name, value in (("enabled", enabled), ("title", _title(title)), ("entity_created_by", entity_created_by)):
            if value is not None and getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        if items is not None and self._replace_triggers(row, items, user_id=user_id, now=now):
            changed = True
        if changed:
            row.updated_at = now
            row.updated_by = user_id
            self._flush(plan_id)
        else:
            self._claim(row)
        self._session.expire(row, ["triggers"])
        return _to_plan(row)

    def add_once_item(self, plan_id: int, *, user_id: int | None, now: datetime) -> PlanItem:
        """Record a run-now; bumps the plan's revision, so it fails if the plan changed since it was read."""
        row = self._row(plan_id)
        if row is None:
            raise _gone(plan_id)
        flag_modified(row, "retry_times")  # an UPDATE that checks and bumps the revision
        item = PlanItemRow(
            plan_id=plan_id,
            trigger_type=TriggerType.ONCE.value,
            created_at=now,
            created_by=user_id,
            updated_at=now,
            updated_by=user_id,
        )
        self._session.add(item)
        self._flush(plan_id)
        return _to_item(item)

    def remove_item(self, item_id: int) -> None:
        """Forget a run-now item whose run could not be started."""
        self._session.execute(delete(PlanItemRow).where(PlanItemRow.id == item_id))

    def delete(self, plan_id: int) -> bool:
        """Delete the plan and every item; False when there is no such plan (any more)."""
        row = self._row(plan_id)
        if row is None:
            return False
        items = select(PlanItemRow.id).where(PlanItemRow.plan_id == plan_id)
        self._session.execute(delete(PlanUpstreamRow).where(PlanUpstreamRow.item_id.in_(items)))
        self._session.execute(delete(PlanItemRow).where(PlanItemRow.plan_id == plan_id))
        self._session.delete(row)
        self._flush(plan_id)
        return True

    def _replace_triggers(
        self, row: PlanRow, items: Sequence[ItemRequest], *, user_id: int | None, now: datetime
    ) -> bool:
        """Make the plan's triggers `items`; True when anything changed. Replaced triggers are kept, removed."""
        live = {item.id: item for item in row.triggers}
        changed = False
        for request in items:
            current = live.pop(request.id, None) if request.id is not None else None
            if current is None:
                new = _new_item(request, user_id=user_id, now=now)
                new.plan_id = row.id
                self._session.add(new)
                changed = True
            elif _differs(current, request):
                _apply(current, request)
                _write_upstreams(current, request)
                current.updated_at = now
                current.updated_by = user_id
                changed = True
        for gone in live.values():
            gone.removed_at = now
            gone.updated_at = now
            gone.updated_by = user_id
            changed = True
        return changed

    def _claim(self, row: PlanRow) -> None:
        """Lock the plan's row for this transaction if it is still at the revision read, else fail.

        An UPDATE that sets nothing new: PostgreSQL's row lock (SQLite's write lock) holds until the
        commit, so of two requests on one plan the second waits, then sees the first's revision.
        Without it a no-change enable could, say, unpause the DAG of a plan a concurrent request
        had just disabled.
        """
        # An UPDATE's result is a CursorResult (Session.execute is typed as returning Result).
        claimed = cast(
            "CursorResult[*tuple[Any, ...]]",
            self._session.execute(
                update(PlanRow)
                .where(PlanRow.id == row.id, PlanRow.revision == row.revision)
                .values(revision=PlanRow.revision)
                .execution_options(synchronize_session=False)
            ),
        )
        if claimed.rowcount == 0:
            self._stale(row.id)

    def _stale(self, plan_id: int) -> None:
        self._session.rollback()  # the request fails: its transaction is over
        if self._session.scalar(select(PlanRow.id).where(PlanRow.id == plan_id)) is None:
            raise _gone(plan_id) from None
        raise ConflictError(
            f"plan {plan_id} was changed by another request at the same time; read it again and retry"
        ) from None

    def _flush(self, plan_id: int) -> None:
        """Flush a change of the plan read earlier; the plan's revision no longer matching means
        another request changed (ConflictError) or deleted it (NotFoundError) since."""
        try:
            self._session.flush()
        except StaleDataError:
            self._stale(plan_id)


def listed_plans(query: PlanQuery) -> list[Any]:
    """SQL conditions on `PlanRow`: the plans a list shows, for every list of plans or of their runs.

    The one place that decides which plans a list may show: the plan listing and its totals, the
    run listing and both `/users` endpoints all filter through here, so the restriction to the
    plans the caller may read (`plan_ids`, from the auth manager) applies to every one of them.
    Each filter is a condition with a fixed number of parameters, on an indexed column where one
    can serve: `(entity_group, entity_key)`, `entity_key`, `entity_created_by`. `q` is a substring
    search (LIKE '%...%'), which no B-tree index serves; it scans the plan table, not the runs.
    """
    conditions: list[Any] = []
    if query.plan_ids is not None:
        # A caller granted some DAGs, not all: a list as long as their grant (ids rendered inline,
        # so SQLite's limit on bound parameters does not apply); None, for all DAGs, costs nothing.
        readable: BindParameter[list[int]] = bindparam(
            "readable_plans", sorted(query.plan_ids), expanding=True, literal_execute=True
        )
        conditions.append(PlanRow.id.in_(readable) if query.plan_ids else false())
    if query.entity_group is not None:
        conditions.append(PlanRow.entity_group == query.entity_group)
    if query.entity_key is not None:
        conditions.append(PlanRow.entity_key == query.entity_key)
    if query.q:
        text = query.q.lower()  # a literal: `%` and `_` match themselves
        conditions.append(
            or_(
                func.lower(PlanRow.title).contains(text, autoescape=True),
                func.lower(PlanRow.entity_key).contains(text, autoescape=True),
            )
        )
    if query.entity_created_by:
        conditions.append(PlanRow.entity_created_by.in_(query.entity_created_by))
    return conditions


def _title(title: str | None) -> str | None:
    """The catalog's title as the column keeps it (a copy for search; the views show the catalog's)."""
    return None if title is None else title[:TITLE_LENGTH]


def _new_item(request: ItemRequest, *, user_id: int | None, now: datetime) -> PlanItemRow:
    row = PlanItemRow(created_at=now, created_by=user_id, updated_at=now, updated_by=user_id)
    _apply(row, request)
    _write_upstreams(row, request)
    return row


def _apply(row: PlanItemRow, request: ItemRequest) -> None:
    row.trigger_type = request.trigger_type.value
    row.cron_desc = request.cron_desc
    row.cron_type = request.cron_type
    row.time_zone = request.time_zone
    dependency = request.trigger_type is TriggerType.DEPENDENCY
    row.trigger_by_jobs = (
        [{"entityGroup": r.entity_group, "entityKey": r.entity_key} for r in request.trigger_by_jobs]
        if dependency
        else None
    )
    row.trigger_on = (request.trigger_on or DependencyTrigger.SUCCESSFUL).value if dependency else None


def _write_upstreams(row: PlanItemRow, request: ItemRequest) -> None:
    """The item's upstream rows, as its `trigger_by_jobs` lists them (stored items only)."""
    refs = request.trigger_by_jobs if request.trigger_type is TriggerType.DEPENDENCY else ()
    row.upstream_rows = [PlanUpstreamRow(entity_group=r.entity_group, entity_key=r.entity_key) for r in refs]


def _differs(row: PlanItemRow, request: ItemRequest) -> bool:
    probe = PlanItemRow()
    _apply(probe, request)
    return any(
        getattr(row, name) != getattr(probe, name)
        for name in ("trigger_type", "cron_desc", "cron_type", "time_zone", "trigger_by_jobs", "trigger_on")
    )


def _to_item(row: PlanItemRow) -> PlanItem:
    return PlanItem(
        id=row.id,
        plan_id=row.plan_id,
        trigger_type=TriggerType(row.trigger_type),
        cron_desc=row.cron_desc,
        cron_type=row.cron_type,
        time_zone=row.time_zone,
        trigger_by_jobs=tuple(
            EntityRef(entity_group=ref["entityGroup"], entity_key=ref["entityKey"]) for ref in row.trigger_by_jobs or ()
        ),
        trigger_on=DependencyTrigger(row.trigger_on) if row.trigger_on else None,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _to_plan(row: PlanRow) -> Plan:
    return Plan(
        id=row.id,
        entity_group=row.entity_group,
        entity_key=row.entity_key,
        enabled=row.enabled,
        exec_detail=ExecDetail(job_class=row.job_class, job_params=dict(row.job_params), retry_times=row.retry_times),
        items=tuple(_to_item(item) for item in sorted(row.triggers, key=lambda i: i.id or 0)),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        title=row.title,
        entity_created_by=row.entity_created_by,
    )
