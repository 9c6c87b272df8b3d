"""A DAG bundle of the plans' files, copied onto each host from taskcenter's table.

With Airflow's CeleryExecutor the api-server, the dag-processor and the workers are different
hosts that share no disk. The api-server keeps each plan's generated file in the metadata DB
(`taskcenter_plan_file`, written in the transaction that changes the plan); this bundle writes
the files of every plan into its own folder on the host that uses it: the dag-processor before it
parses (`refresh`, and for each parse request, see `plan_processor`), a worker's task before it
loads its DAG (`initialize`). A sync compares digests (one small read for every plan) and fetches
only the files that changed, so it costs a few milliseconds when nothing did.

A task process may not use Airflow's own DB session (Airflow 3 blocks it), so on workers the
bundle reads the table through an Airflow connection (`conn_id`, e.g. `taskcenter_metadata`
defined by an `AIRFLOW_CONN_...` variable of that host); without one it uses Airflow's own engine
(the dag-processor). Configure it in `[dag_processor] dag_bundle_config_list`:

    {"name": "taskcenter-plans", "classpath": "taskcenter.adapters.airflow.plan_bundle.PlanFilesBundle",
     "kwargs": {"path": "/var/lib/taskcenter/plans", "conn_id": "taskcenter_metadata"}}
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from airflow.dag_processing.bundles.local import LocalDagBundle

from taskcenter.adapters.airflow.dag_files import write_atomically
from taskcenter.adapters.store.plan_files import PlanFile, PlanFileStore, digest_of

log = logging.getLogger(__name__)

MANIFEST = ".taskcenter-plan-files.json"  # plan id -> [digest, relative path] of the files written here


@dataclass(frozen=True, kw_only=True)
class Synced:
    written: int
    removed: int


class PlanFilesBundle(LocalDagBundle):
    supports_versioning = False

    def __init__(self, *, path: str, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)
        self.conn_id = conn_id

    def initialize(self) -> None:
        with self.lock():
            self.sync()
        super().initialize()

    def refresh(self) -> None:
        with self.lock():
            self.sync()

    def sync(self) -> Synced:
        """Make this host's folder hold exactly the files the DB keeps (callers hold `lock()`)."""
        from sqlalchemy.orm import Session

        with Session(self._engine()) as session:
            store = PlanFileStore(session)
            wanted = store.manifest()
            have = self._read_manifest()
            changed = [plan_id for plan_id, digest in wanted.items() if have.get(plan_id, ("",))[0] != digest]
            written = 0
            for plan_file in store.files(changed):
                if self._write(plan_file):
                    written += 1
                have[plan_file.plan_id] = (plan_file.digest, plan_file.relative_path)
        removed = 0
        for plan_id in sorted(set(have) - set(wanted)):
            (self.path / have.pop(plan_id)[1]).unlink(missing_ok=True)
            removed += 1
        if changed or removed:
            self._write_manifest(have)
        if written or removed:
            log.info("Plan files of bundle %s: %d written, %d removed", self.name, written, removed)
        return Synced(written=written, removed=removed)

    def _engine(self) -> Any:
        """The metadata DB: through the bundle's connection (any host), else Airflow's engine."""
        if self.conn_id:
            return _connection_engine(self.conn_id)
        from airflow import settings

        return settings.engine

    def _write(self, plan_file: PlanFile) -> bool:
        """Write one file atomically, dated as the DB dates it (the plan-processor compares that with
        the DAG's parse time). False when the file on disk already had this content."""
        target = self.path / plan_file.relative_path
        stamp = plan_file.written_at.timestamp()
        try:
            if digest_of(target.read_text(encoding="utf-8")) == plan_file.digest:
                return False
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        write_atomically(target, plan_file.content, mtime=stamp)
        return True

    def _read_manifest(self) -> dict[int, tuple[str, str]]:
        try:
            raw = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
            return {int(plan_id): (str(entry[0]), str(entry[1])) for plan_id, entry in raw.items()}
        except (FileNotFoundError, ValueError, TypeError, IndexError, AttributeError):
            return {}  # no manifest (a new host) or a broken one: every file is compared again

    def _write_manifest(self, have: dict[int, tuple[str, str]]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".manifest_", dir=self.path)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({str(k): list(v) for k, v in sorted(have.items())}, handle)
        os.replace(temp, self.path / MANIFEST)


_ENGINES: dict[str, Any] = {}


def _connection_engine(conn_id: str) -> Any:
    """An engine on the connection's database (one per process; a task process uses it once)."""
    if conn_id not in _ENGINES:
        from airflow.providers.common.sql.hooks.sql import DbApiHook
        from airflow.sdk import BaseHook

        hook = BaseHook.get_connection(conn_id).get_hook()
        if not isinstance(hook, DbApiHook):
            raise TypeError(f"connection {conn_id!r} is not a database connection")
        _ENGINES[conn_id] = hook.get_sqlalchemy_engine(engine_kwargs={"pool_pre_ping": True})
    return _ENGINES[conn_id]
