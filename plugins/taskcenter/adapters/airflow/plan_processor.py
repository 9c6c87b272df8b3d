"""The plans' own dag-processor: Airflow's DAG file processor for the plans' bundle alone.

A plan's DAG file changes only when the plan does, and every change queues a parse request, so
this processor never re-parses an unchanged file on a timer (`min_file_process_interval` is set
out of reach by the launcher). What differs from `airflow dag-processor --bundle-name`:

- On start, a file that Airflow already parsed since its last write (`DagModel.last_parsed_time`
  at or after the file's mtime, no import error) is adopted as parsed instead of parsed again.
  Airflow keeps its parse statistics in memory only, so each start of a plain dag-processor
  re-parses every plan: ~0.15 CPU-s each, half an hour of both cores at 10,000 plans.
- A parse request parses its file without re-listing the whole bundle first (Airflow lists every
  file, and reads every DAG row of the bundle, before each requested parse, in case the request
  came with new files of a versioned bundle; each plan's file is written before its request is
  queued). New and removed files are still found at the bundle's refresh interval.
- The parse of a file whose plan was deleted while it ran is dropped, not persisted (it would
  bring the deleted plan's DAG back and leave an import error; see `persist_parsing_result`).
- A file whose parse is requested while it is being parsed is parsed again once that parse ends.
  Airflow drops such a request (its queue pops the file and skips it as already in progress), so a
  write that came during the parse of the previous one (a plan, then at once a plan that depends on
  it: the upstream's file is rewritten) stayed unparsed until the next timer, here never.
- Each forked parse process starts by resetting the signal handlers it inherited; Python's
  `signal.signal` then formats the old handler, a bound method of the manager, whose generated
  repr lists every file it tracks: O(plans) per parse, 70% of each parse's CPU at 10,000 plans.
  The manager's repr here is short. Likewise Airflow collects the bundles of every queued file
  before it starts the next parses; here it is handed only the files it starts.
- The whole bundle is checked for changed files (a `stat` of every file) once per listing of the
  bundle, not on every pass of the loop whose queue is empty: with 10,000 plans that scan was about
  0.3 of a core while nothing happened. Every write of a plan comes with a parse request anyway.
- A committed parse request wakes the loop at once (`parse_wakeup`: PostgreSQL `NOTIFY`, or a
  datagram on SQLite) instead of being found by the next poll, up to a second later.
- Airflow syncs a DAG's FAB permissions (`DAG:<id>`, `DAG Run:<id>`, 7 actions, ~20 queries) after
  every parse; here that is skipped when all of them are already there (one query). It was about a
  quarter of the processor's CPU per plan change. A DAG with `access_control` still syncs each time.
- A plan's DAG is created paused or not as its plan is enabled *when the DAG row is created*,
  not as the parsed file said: a file can be parsed after a newer write of the plan, whose pause
  found no DAG row to set (see `create_plan_dags_as_their_plans_are`).
- With the plans' files kept in the DB (`plan_bundle.PlanFilesBundle`, hosts that share no disk),
  the files of claimed parse requests are copied from the DB first.
- Before the parse processes are forked, one DAG of each job type is built and serialized, so
  every parse inherits taskcenter's modules, the job types' operators and Airflow's lazily
  discovered asset URI handlers instead of loading them again (they were half a parse's CPU;
  Airflow pre-imports only the `airflow.*` modules a file names).

Everything else (parsing, serializing, callbacks, stale-DAG handling) is Airflow's own code.
See docs/scale.md.
"""

from __future__ import annotations

import os
import selectors
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from airflow.dag_processing.manager import DagFileInfo, DagFileProcessorManager, DagFileStat

from taskcenter.adapters.airflow.parse_wakeup import Wakeup, open_wakeup

if TYPE_CHECKING:
    from sqlalchemy import Table

# How long a broken wake-up channel waits before it is opened again (the loop polls meanwhile).
REOPEN_WAKEUP_AFTER = 30.0


def parsed_since_written(
    files: Iterable[DagFileInfo], *, last_parsed: Mapping[str, datetime], failed: set[str]
) -> dict[DagFileInfo, datetime]:
    """The files whose DAG was parsed at or after the file's last write, with that parse time."""
    adopted: dict[DagFileInfo, datetime] = {}
    for file in files:
        relative = str(file.rel_path)
        parsed_at = last_parsed.get(relative)
        if parsed_at is None or relative in failed:
            continue
        try:
            written_at = datetime.fromtimestamp(os.path.getmtime(file.absolute_path), tz=timezone.utc)
        except OSError:
            continue
        if parsed_at >= written_at:
            adopted[file] = parsed_at
    return adopted


class PlanFileProcessorManager(DagFileProcessorManager):
    """Airflow's manager, adopting files parsed since their last write instead of parsing them again."""

    _wakeup: Wakeup | None = None
    _wakeup_opened_at: float = float("-inf")
    _listing_scanned: bool = False

    def request_bundle_refresh(self, bundle_names: str | Iterable[str]) -> None:
        """Parse requests do not force a listing of the bundle (see the module's docstring)."""

    def before_run(self) -> None:
        super().before_run()
        self._open_wakeup()

    def after_run(self) -> None:
        self._close_wakeup()
        super().after_run()

    def claim_priority_files(self) -> list[DagFileInfo]:
        if self._wakeup is None and time.monotonic() - self._wakeup_opened_at >= REOPEN_WAKEUP_AFTER:
            self._open_wakeup()
        files = super().claim_priority_files()
        self._sync_plan_files({file.bundle_name for file in files})
        return files

    def _sync_plan_files(self, bundle_names: set[str]) -> None:
        """Copy the plans' files from the DB before their requested parse (hosts share no disk)."""
        from taskcenter.adapters.airflow.plan_bundle import PlanFilesBundle

        for bundle in self._dag_bundles:
            if bundle.name in bundle_names and isinstance(bundle, PlanFilesBundle):
                try:
                    with bundle.lock():
                        bundle.sync()
                except Exception:  # the parse reads what the folder has; the next request syncs again
                    self.log.exception("Could not copy the plan files of bundle %s from the DB", bundle.name)

    def _open_wakeup(self) -> None:
        """Add the wake-up channel to the loop's selector: its `select()` returns when a request commits."""
        from airflow.configuration import conf

        from taskcenter.adapters.airflow.dag_files import configured_dag_files

        self._wakeup_opened_at = time.monotonic()
        wakeup = open_wakeup(
            url=conf.get("database", "sql_alchemy_conn"), bundle_path=configured_dag_files().bundle_path
        )
        if wakeup is not None:
            self.selector.register(wakeup, selectors.EVENT_READ, (self._on_wakeup, self._on_wakeup_closed))
            self._wakeup = wakeup

    def _on_wakeup(self, wakeup: Wakeup) -> bool:
        return wakeup.drain()  # False (broken) makes the loop unregister and close it

    def _on_wakeup_closed(self, wakeup: Wakeup) -> None:
        self.selector.unregister(wakeup)
        self._wakeup = None

    def _close_wakeup(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None:
            self._on_wakeup_closed(wakeup)
            wakeup.close()

    def persist_parsing_result(self, *, relative_fileloc: str | None, session: Any, **kwargs: Any) -> None:
        """Persist a parse as Airflow does, unless the file's plan was deleted meanwhile.

        A delete removes the plan's DAG rows and import errors in its transaction and the file
        after its commit; a parse of the file that was already running would otherwise bring the
        DAG row back (unpaused, as its file says) and record an import error for the vanished
        file. The plan's row is locked (`plan_exists`), so a delete either waits for this persist
        (and removes what it wrote) or has committed (and the result is dropped).
        """
        from taskcenter.adapters.airflow.naming import plan_id_of_file

        plan_id = plan_id_of_file(relative_fileloc or "")
        if plan_id is not None and not plan_exists(plan_id, session=session):
            self.log.info("Dropped the parse of %s: its plan was deleted meanwhile", relative_fileloc)
            return
        super().persist_parsing_result(relative_fileloc=relative_fileloc, session=session, **kwargs)

    def _add_new_files_to_queue(self, known_files: dict[str, set[DagFileInfo]]) -> None:
        # Airflow calls this after each listing of the bundle: the next empty queue scans it again.
        self._listing_scanned = False
        self._adopt_parsed_files(known_files)
        super()._add_new_files_to_queue(known_files)

    def prepare_file_queue(self, known_files: dict[str, set[DagFileInfo]]) -> None:
        """Queue changed files once per listing of the bundle (see the module's docstring)."""
        if self._listing_scanned:
            return
        self._listing_scanned = True
        super().prepare_file_queue(known_files)

    def __repr__(self) -> str:
        """Short: a forked parse process builds it (see the module's docstring)."""
        return f"<{type(self).__name__} of {len(self._file_stats)} files, {len(self._file_queue)} queued>"

    def _start_new_processes(self) -> None:
        """Start parses as Airflow does, from the front of the queue only, keeping a queued file
        whose previous parse still runs (Airflow would drop it; see the module's docstring)."""
        free = self._parallelism - len(self._processors)
        if free <= 0 or not self._file_queue:
            return
        queue = self._file_queue
        head: OrderedDict[DagFileInfo, None] = OrderedDict()
        for file in queue:
            if len(head) >= free:
                break
            if file not in self._processors:
                head[file] = None
        for file in head:
            del queue[file]
        # Airflow's method reads the team of every queued file's bundle on each pass: give it
        # only the files it will start now.
        self._file_queue = head
        try:
            super()._start_new_processes()
        finally:
            not_started, self._file_queue = self._file_queue, queue
            for file in reversed(not_started):
                queue[file] = None
                queue.move_to_end(file, last=False)

    def _adopt_parsed_files(self, known_files: dict[str, set[DagFileInfo]]) -> None:
        tracked = {file.presence_key for file in self._file_stats}
        tracked.update(file.presence_key for file in self._file_queue)
        tracked.update(file.presence_key for file in self._processors)
        for bundle_name, files in known_files.items():
            untracked = [file for file in files if file.presence_key not in tracked]
            if not untracked:
                continue
            last_parsed, failed = _parse_records(bundle_name)
            adopted = parsed_since_written(untracked, last_parsed=last_parsed, failed=failed)
            for file, parsed_at in adopted.items():
                self._file_stats[file] = DagFileStat(num_dags=1, last_finish_time=parsed_at, run_count=1)
            if adopted:
                self.log.info(
                    "Adopted %d of %d new files of bundle %s as parsed (unchanged since their last parse)",
                    len(adopted), len(untracked), bundle_name,
                )


def _parse_records(bundle_name: str) -> tuple[dict[str, datetime], set[str]]:
    """Last parse time of each active DAG's file in the bundle, and the files with import errors."""
    from airflow.models.dag import DagModel
    from airflow.models.errors import ParseImportError
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(DagModel.relative_fileloc, DagModel.last_parsed_time).where(
                DagModel.bundle_name == bundle_name, ~DagModel.is_stale, DagModel.last_parsed_time.is_not(None)
            )
        )
        # Both columns are nullable; the query already leaves out DAGs never parsed, and a file
        # name that is None matches no file.
        last_parsed = {
            str(relative): parsed_at
            for relative, parsed_at in rows
            if relative is not None and parsed_at is not None
        }
        failed = {
            filename
            for filename in session.scalars(
                select(ParseImportError.filename).where(ParseImportError.bundle_name == bundle_name)
            )
            if filename is not None
        }
    return last_parsed, failed


def _wrap_collection(name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace `airflow.dag_processing.collection.<name>` by `wrap(original)`, once, in this process.

    Both functions wrapped here are private to Airflow; tests pin their signatures, and a name
    that is gone leaves Airflow's behaviour as it is.
    """
    from airflow.dag_processing import collection

    original = getattr(collection, name, None)
    if original is None or getattr(original, "taskcenter_wrapped", False):
        return
    wrapped = wrap(original)
    wrapped.taskcenter_wrapped = True  # type: ignore[attr-defined]
    setattr(collection, name, wrapped)


def create_plan_dags_as_their_plans_are() -> None:
    """Make Airflow's creation of DAG rows pause a plan's DAG as the plan's committed `enabled` says.

    A write of a plan pauses or unpauses its DAG row in the same transaction, if the row exists.
    Before the first parse it does not, and Airflow creates it from the parsed file's
    `is_paused_upon_creation`; when that file was older than the last write (a disable, then an
    enable before the parse of the disable's file committed), the DAG stayed paused under an enabled
    plan. Here the creation reads the plan's row with a share lock: a write of the plan in progress
    finishes first (and the row shows it), and a write that starts later waits for the DAG row to
    be committed and then sets its pause itself. Wraps `_create_orm_dags`.
    """

    def wrap(original: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def create_as_plans_are(
            bundle_name: str, bundle_version: str | None, dags: Iterable[Any], *, session: Any
        ) -> Iterator[Any]:
            for orm_dag in original(bundle_name, bundle_version, dags, session=session):
                enabled = plan_enabled(orm_dag.dag_id, session=session)
                if enabled is not None:
                    orm_dag.is_paused = not enabled
                yield orm_dag

        return create_as_plans_are

    _wrap_collection("_create_orm_dags", wrap)


def plan_enabled(dag_id: str, *, session: Any) -> bool | None:
    """The committed `enabled` of the plan whose DAG this is (None: not a plan's), share-locked."""
    from sqlalchemy import select

    from taskcenter.adapters.store.models import PlanRow

    return session.scalar(select(PlanRow.enabled).where(PlanRow.dag_id == dag_id).with_for_update(read=True))


def plan_exists(plan_id: int, *, session: Any) -> bool:
    """Whether the plan's row is there, locked against its delete until the transaction ends."""
    from sqlalchemy import select, update

    from taskcenter.adapters.store.models import PlanRow

    if session.get_bind().dialect.name == "sqlite":
        # No row locks: a write takes the database's write lock for the rest of the transaction,
        # so a delete of the plan either committed before (0 rows) or waits for this one.
        plans = cast("Table", PlanRow.__table__)  # declared as a FromClause; a mapped class's is a Table
        return session.execute(update(plans).where(plans.c.id == plan_id).values(id=plans.c.id)).rowcount > 0
    return session.scalar(select(PlanRow.id).where(PlanRow.id == plan_id).with_for_update(read=True)) is not None


def sync_dag_permissions_when_missing() -> None:
    """Make Airflow's per-parse permission sync skip DAGs whose FAB permissions all exist.

    Airflow calls `_sync_dag_perms` for every parsed DAG when the auth manager is FAB.
    """

    def wrap(original: Callable[..., None]) -> Callable[..., None]:
        def sync_unless_present(dag: Any, session: Any) -> None:
            if getattr(dag, "access_control", None) is None and dag_permissions_present(dag.dag_id, session=session):
                return
            original(dag, session=session)

        return sync_unless_present

    _wrap_collection("_sync_dag_perms", wrap)


def dag_permissions_present(dag_id: str, *, session: Any) -> bool:
    """Whether every per-DAG permission FAB's `sync_perm_for_dag` creates exists (one query)."""
    from airflow.providers.fab.auth_manager.models import Action, Permission, Resource
    from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride
    from airflow.providers.fab.www.security import permissions
    from sqlalchemy import select

    expected = {
        (action, permissions.resource_name(dag_id, resource))
        for resource, details in FabAirflowSecurityManagerOverride.RESOURCE_DETAILS_MAP.items()
        for action in details["actions"]
    }
    found = session.execute(
        select(Action.name, Resource.name)
        .join(Permission, Permission.action_id == Action.id)
        .join(Resource, Resource.id == Permission.resource_id)
        .where(Resource.name.in_({resource for _, resource in expected}))
    )
    return expected <= {(action, resource) for action, resource in found}


def warm_up() -> None:
    """Build and serialize a plan DAG of every job type, in this process, before any fork."""
    from airflow.serialization.serialized_objects import DagSerialization

    from taskcenter.adapters.airflow.dag_builder import build_plan_dag
    from taskcenter.domain.jobs import DEFAULT_JOB_CLASS

    for number, (group, job_class) in enumerate(DEFAULT_JOB_CLASS.items(), start=1):
        spec = {
            "plan_id": number,
            "dag_id": f"taskcenter_warm_up_{number}",
            "title": "warm-up",
            "description": "",
            "entity_group": group.value,
            "entity_key": "1",
            "owner": "taskcenter",
            "enabled": False,
            "job": {"job_class": job_class, "job_params": {}, "retry_times": 0},
            "cron": [{"item_id": 1, "expression": "0 0 0 1 1 ?", "zone": "UTC"}],
            "upstreams": [{"entity_group": group.value, "entity_key": "2", "on": "SUCCESS"}],
            "emit_finished": True,
        }
        DagSerialization.to_dict(build_plan_dag(spec))


def run_plan_processor(*, bundle_names: list[str]) -> None:
    """Run the processor until a signal stops it (as `airflow dag-processor` does)."""
    import signal

    from airflow.cli.commands.daemon_utils import sigint_handler, sigquit_handler
    from airflow.jobs.dag_processor_job_runner import DagProcessorJobRunner
    from airflow.jobs.job import Job, run_job
    from airflow.utils.process_utils import set_component_mp_start_method

    warm_up()
    sync_dag_permissions_when_missing()
    create_plan_dags_as_their_plans_are()
    set_component_mp_start_method("dag_processor")
    runner: Any = DagProcessorJobRunner(
        job=Job(), processor=PlanFileProcessorManager(max_runs=-1, bundle_names_to_parse=bundle_names)
    )
    signal.signal(signal.SIGINT, sigint_handler)
    signal.signal(signal.SIGTERM, sigint_handler)
    signal.signal(signal.SIGQUIT, sigquit_handler)
    run_job(job=runner.job, execute_callable=runner._execute)
