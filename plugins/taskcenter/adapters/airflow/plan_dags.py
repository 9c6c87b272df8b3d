"""Plans on Airflow: publish a plan as its DAG, start a run of it, remove it.

This is the adapter behind the services' `PlanDags` port. It writes through the request's session
(the parse request and pause state commit with the plan), and waits with short sessions of its
own where it must see what other Airflow components commit (the parsed DAG, a run's end).

A plan's file changes with the transaction that changes the plan: it is written before the
commit (so the parse request that commits with the plan finds it), and once the transaction has
ended, committed or rolled back, the file is written again from what the DB then holds
(`sync_plan_file`). Putting back "the file as this request found it" after a rollback was not
enough: under load a concurrent request of the same plan could write and commit in between, and
the put-back file then showed a state that no longer existed. A deleted plan's file goes only
once the delete has committed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone

from sqlalchemy import event
from sqlalchemy.orm import Session

from taskcenter.adapters.airflow.dag_files import PlanDagFiles, render
from taskcenter.adapters.airflow.dag_spec import plan_spec
from taskcenter.adapters.airflow.dags import AirflowDags
from taskcenter.adapters.airflow.naming import dag_id_for, plan_id_of
from taskcenter.adapters.airflow.runs import AirflowRuns, wait_until
from taskcenter.adapters.store.plan_files import PlanFileStore, Stored
from taskcenter.domain.errors import ServiceUnavailableError
from taskcenter.domain.plans import Plan
from taskcenter.domain.runs import Run

log = logging.getLogger(__name__)
# A parse that started this long after a file was replaced has read the new content.
SURELY_READ_AFTER = timedelta(seconds=2)


class TransactionHooks:
    """Actions to run when a session's outermost transaction commits, or rolls back.

    SQLAlchemy's `after_commit` and `after_rollback` also fire for savepoints (`begin_nested`);
    those are ignored here, so an action never runs before the work it belongs to is final.
    What an action returns is ignored.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._on_commit: list[Callable[[], object]] = []
        self._on_rollback: list[Callable[[], object]] = []
        self._listening = False

    def add(
        self, *, on_commit: Callable[[], object] | None = None, on_rollback: Callable[[], object] | None = None
    ) -> None:
        if not self._listening:
            event.listen(self._session, "after_commit", self._committed)
            event.listen(self._session, "after_rollback", self._rolled_back)
            self._listening = True
        if on_commit is not None:
            self._on_commit.append(on_commit)
        if on_rollback is not None:
            self._on_rollback.append(on_rollback)

    def _take(self, *, committed: bool) -> list[Callable[[], object]]:
        actions = self._on_commit if committed else list(reversed(self._on_rollback))
        self._on_commit, self._on_rollback = [], []
        return actions

    def _committed(self, session: Session) -> None:
        if not session.in_nested_transaction():
            for action in self._take(committed=True):
                action()

    def _rolled_back(self, session: Session) -> None:
        if not session.in_nested_transaction():
            for action in self._take(committed=False):
                action()


class AirflowPlanDags:
    def __init__(self, session: Session, files: PlanDagFiles) -> None:
        self._session = session
        self._files = files
        self._dags = AirflowDags(session)
        self._hooks = TransactionHooks(session)
        self._written_at: dict[int, datetime] = {}

    def publish(
        self,
        plan: Plan,
        *,
        owner: str | None,
        next_run: datetime | None,
        emit_finished: bool = False,
        row_written: bool = False,
    ) -> None:
        """Write the plan's DAG file, ask for an immediate parse, apply its enabled state.

        `row_written`: this transaction wrote the plan's row, so no other request can commit a
        change of the plan before this one ends; after the commit the file is then only checked
        (`confirm_plan_file`) rather than rendered again from a fresh read.
        """
        written_at = datetime.now(timezone.utc)
        content = render(plan_spec(plan, owner=owner, emit_finished=emit_finished))
        changed = store_plan_file(self._session, self._files, plan.id, content=content, now=written_at)
        if changed:
            self._written_at[plan.id] = written_at
            resync = lambda: sync_plan_file(self._files, plan.id)  # noqa: E731
            confirm = (
                (lambda: confirm_plan_file(self._files, plan, content=content, emit_finished=emit_finished))
                if row_written
                else resync
            )
            self._hooks.add(on_commit=confirm, on_rollback=resync)
            self._files.request_parse(self._session, [plan.id])
        elif not self._dags.is_parsed(dag_id_for(plan.id)):
            self._files.request_parse(self._session, [plan.id])
        self._dags.set_paused(dag_id_for(plan.id), paused=not plan.enabled, next_run=next_run)

    def unpublish(self, plan_id: int) -> None:
        """Delete the plan's DAG, then (once that is committed) its file.

        The other order races the dag-processor: a bundle refresh that no longer finds the file marks
        the DAG stale with an UPDATE, and if our delete commits in between, that UPDATE matches no
        row and the dag-processor dies (StaleDataError). With the rows gone first, a refresh either
        still sees the file or no longer sees the DAG.
        """
        self._dags.delete_dag(dag_id_for(plan_id))
        PlanFileStore(self._session).remove(plan_id)
        # Airflow clears a DAG's import errors with its row; a file that never imported has none.
        self._dags.clear_import_errors(
            bundle_name=self._files.bundle_name, relative_path=self._files.relative_path(plan_id)
        )
        self._hooks.add(on_commit=lambda: self._files.remove(plan_id))

    def paused(self, plan_ids: Iterable[int]) -> dict[int, bool]:
        """Whether each plan's DAG is paused, for the plans whose DAG Airflow knows."""
        states = self._dags.paused(dag_id_for(i) for i in plan_ids)
        return {plan_id: paused for dag_id, paused in states.items() if (plan_id := plan_id_of(dag_id)) is not None}

    def start_run(self, plan: Plan, *, item_id: int, user_name: str | None, parse_timeout: float) -> Run:
        """Start a run now; waits (committed state) until the dag-processor has the plan's DAG."""
        from airflow.utils.session import create_session

        dag_id = dag_id_for(plan.id)

        written_at = self._written_at.get(plan.id)

        def parsed() -> bool:
            """Parsed, and after this request rewrote the file: a run must use the new definition."""
            with create_session() as session:
                dags = AirflowDags(session)
                if not dags.is_parsed(dag_id):
                    return False
                if written_at is None:
                    return True
                # The new definition is serialized; or a parse that surely read the new file found
                # nothing to change in the serialized DAG.
                serialized, parsed_at = dags.serialized_at(dag_id), dags.last_parsed(dag_id)
                return (serialized is not None and serialized >= written_at) or (
                    parsed_at is not None and parsed_at >= written_at + SURELY_READ_AFTER
                )

        if not wait_until(parsed, timeout=parse_timeout):
            raise ServiceUnavailableError(
                f"the plan's DAG {dag_id} was not parsed within {parse_timeout:.0f} s; is the dag-processor running?"
            )
        return AirflowRuns(self._session).trigger(plan.id, item_id=item_id, user_name=user_name)


def committed_specs(session: Session, plans: Sequence[Plan]) -> list[dict[str, object]]:
    """The DAG specs of these plans as the DB holds them: one user read, one dependency read."""
    from taskcenter.adapters.airflow.users import FabUserDirectory
    from taskcenter.adapters.store.plans import PlanRepository

    creators = FabUserDirectory(session).get_many([p.created_by for p in plans if p.created_by is not None])
    awaited_ends = PlanRepository(session).finished_upstreams()
    return [
        plan_spec(
            plan,
            owner=creators[plan.created_by].login_name if plan.created_by in creators else None,
            emit_finished=plan.ref in awaited_ends,
        )
        for plan in plans
    ]


def confirm_plan_file(files: PlanDagFiles, plan: Plan, *, content: str, emit_finished: bool) -> None:
    """After the commit of a transaction that wrote the plan's row (and so held it until now):
    the file it wrote is still the committed state unless another request rewrote the file since
    (an upstream refresh) or changed who waits for the plan's end meanwhile; then sync it."""
    from airflow.utils.session import create_session

    from taskcenter.adapters.store.plans import PlanRepository

    try:
        with files.locked():
            if files.read(plan.id) == content:
                with create_session() as session:
                    if PlanRepository(session).finished_subscribers(plan.ref) == emit_finished:
                        return
    except Exception:
        log.exception("Could not check the DAG file of plan %s", plan.id)
    sync_plan_file(files, plan.id)


def sync_plan_file(files: PlanDagFiles, plan_id: int) -> None:
    """Write a plan's file from the committed state (a short session of its own), under the files'
    lock: of two requests that changed one plan, whichever syncs last reads the last commit."""
    from airflow.utils.session import create_session

    from taskcenter.adapters.store.plans import PlanRepository

    try:
        with files.locked(), create_session() as session:
            plan = PlanRepository(session).get(plan_id)
            if plan is None:  # a create that rolled back (plan ids are never reused)
                files.remove(plan_id)
                PlanFileStore(session).remove(plan_id)
                return
            content = render(committed_specs(session, [plan])[0])
            if store_plan_file(session, files, plan_id, content=content, now=datetime.now(timezone.utc), locked=True):
                files.request_parse(session, [plan_id])
    except Exception:  # the request's own outcome stands; `taskcenter reconcile` (every start) repairs
        log.exception("Could not bring the DAG file of plan %s in line with the DB", plan_id)


def reconcile_plan_dags(session: Session, files: PlanDagFiles) -> tuple[int, int]:
    """Make the generated files match the plans in the DB: (files written, files removed).

    The DB is the source of truth; a lost volume, a restored backup or a new generator version
    must never leave DAGs and plans out of step. Unchanged files are left alone (no re-parse).
    """
    from taskcenter.adapters.store.plans import PlanRepository

    plans = PlanRepository(session).all()
    written = 0
    now = datetime.now(timezone.utc)
    for plan, spec in zip(plans, committed_specs(session, plans), strict=True):
        if store_plan_file(session, files, plan.id, content=render(spec), now=now):
            files.request_parse(session, [plan.id])
            written += 1
    known = {plan.id for plan in plans}
    removed = set(PlanFileStore(session).remove_all_but(known))
    dags = AirflowDags(session)
    for plan_id in files.plan_ids_on_disk():
        if plan_id not in known:
            files.remove(plan_id)
            dags.delete_dag(dag_id_for(plan_id))
            removed.add(plan_id)
    return written, len(removed)


def store_plan_file(
    session: Session, files: PlanDagFiles, plan_id: int, *, content: str, now: datetime, locked: bool = False
) -> bool:
    """Keep the plan's file in the DB (what every host's `PlanFilesBundle` copies) and in this host's
    folder (the embedded default's bundle); True when it changed, so that it must be parsed again.

    A file first kept in the DB that this host's folder already had as it is (the first reconcile
    after migration 0011) is no change: nothing to parse. `locked`: the caller holds the files' lock
    already (a second `flock` from this process would wait for itself).
    """
    stored = PlanFileStore(session).put(plan_id, relative_path=files.relative_path(plan_id), content=content, now=now)
    with contextlib.nullcontext() if locked else files.locked():
        written = files.write_content(plan_id, content)
    return written or stored is Stored.CHANGED
