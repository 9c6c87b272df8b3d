"""The plans' own dag-processor: Airflow's DAG file processor for the plans' bundle alone.

A plan's DAG file changes only when the plan does, and every change queues a parse request, so
this processor never re-parses an unchanged file on a timer (`min_file_process_interval` is set
out of reach by the launcher). Three things differ from `airflow dag-processor --bundle-name`:

- On start, a file that Airflow already parsed since its last write (`DagModel.last_parsed_time`
  at or after the file's mtime, no import error) is adopted as parsed instead of parsed again.
  Airflow keeps its parse statistics in memory only, so each start of a plain dag-processor
  re-parses every plan: ~0.15 CPU-s each, half an hour of both cores at 10,000 plans.
- A parse request parses its file without re-listing the whole bundle first (Airflow lists every
  file, and reads every DAG row of the bundle, before each requested parse, in case the request
  came with new files of a versioned bundle; each plan's file is written before its request is
  queued). New and removed files are still found at the bundle's refresh interval.
- Before the parse processes are forked, one DAG of each job type is built and serialized, so
  every parse inherits taskcenter's modules, the job types' operators and Airflow's lazily
  discovered asset URI handlers instead of loading them again (they were half a parse's CPU;
  Airflow pre-imports only the `airflow.*` modules a file names).

Everything else (parsing, serializing, callbacks, stale-DAG handling) is Airflow's own code.
See docs/scale.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow.dag_processing.manager import DagFileInfo, DagFileProcessorManager, DagFileStat


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

    def request_bundle_refresh(self, bundle_names: str | Iterable[str]) -> None:
        """Parse requests do not force a listing of the bundle (see the module's docstring)."""

    def _add_new_files_to_queue(self, known_files: dict[str, set[DagFileInfo]]) -> None:
        self._adopt_parsed_files(known_files)
        super()._add_new_files_to_queue(known_files)

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
        last_parsed = {str(relative): parsed_at for relative, parsed_at in rows if relative is not None}
        failed = set(
            session.scalars(select(ParseImportError.filename).where(ParseImportError.bundle_name == bundle_name))
        )
    return last_parsed, failed


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
    set_component_mp_start_method("dag_processor")
    runner: Any = DagProcessorJobRunner(
        job=Job(), processor=PlanFileProcessorManager(max_runs=-1, bundle_names_to_parse=bundle_names)
    )
    signal.signal(signal.SIGINT, sigint_handler)
    signal.signal(signal.SIGTERM, sigint_handler)
    signal.signal(signal.SIGQUIT, sigquit_handler)
    run_job(job=runner.job, execute_callable=runner._execute)
