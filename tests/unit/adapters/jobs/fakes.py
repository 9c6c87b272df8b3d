"""Test doubles shared by the job runners' tests (unit and component): a logger, an entity catalog and a `JobRun`.

`make_job` builds a `JobRun` the way the operator would, but with no Airflow: the log is a
`FakeLog` and published results land in a list. Everything the job logs or publishes is also
appended, in order, to one `timeline`, so a test can check that a step's result arrives before
the next step starts.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from taskcenter.adapters.jobs.base import ChildProcesses, JobRun
from taskcenter.adapters.jobs.cancel import CancelWatch
from taskcenter.domain.catalog import Entity

# (level, sub_key, text): one log line.
Record = tuple[str, "str | None", str]
# ("log", sub_key, text) or ("result", sub_key, table): what the job did, in order.
Event = tuple[str, "str | None", Any]


class FakeLog:
    """Just enough of a structlog logger: `bind(sub_key=...)` returns a bound copy sharing the records."""

    def __init__(
        self, sub_key: str | None = None, *, records: list[Record] | None = None, timeline: list[Event] | None = None
    ) -> None:
        self.sub_key = sub_key
        self.records: list[Record] = [] if records is None else records
        self.timeline: list[Event] = [] if timeline is None else timeline

    def bind(self, **kw: Any) -> FakeLog:
        return FakeLog(kw.get("sub_key", self.sub_key), records=self.records, timeline=self.timeline)

    def _add(self, level: str, msg: str, *args: Any) -> None:
        text = msg % args if args else msg
        self.records.append((level, self.sub_key, text))
        self.timeline.append(("log", self.sub_key, text))

    def debug(self, msg: str, *args: Any) -> None:
        self._add("debug", msg, *args)

    def info(self, msg: str, *args: Any) -> None:
        self._add("info", msg, *args)

    def warning(self, msg: str, *args: Any) -> None:
        self._add("warning", msg, *args)

    def error(self, msg: str, *args: Any) -> None:
        self._add("error", msg, *args)

    def lines(self, sub_key: str | None) -> list[str]:
        """The texts logged under `sub_key`, in order."""
        return [text for _, key, text in self.records if key == sub_key]

    def texts(self) -> list[str]:
        """Every text logged, in order."""
        return [text for _, _, text in self.records]

    def sub_keys(self) -> set[str]:
        """The sub_keys lines were logged under (not None: lines of no step)."""
        return {key for _, key, _ in self.records if key is not None}


class MemoryCatalog:
    """An in-memory entity catalog; `entities(group)` lists a group in key order."""

    def __init__(self, *entities: Entity, folder: Path | None = None) -> None:
        self.folder = folder
        self._entities = {(e.group, e.key): e for e in entities}

    def get(self, group: str, key: str) -> Entity | None:
        return self._entities.get((group, key))

    def entities(self, group: str) -> list[Entity]:
        return [e for (g, _), e in sorted(self._entities.items()) if g == group]


@dataclass
class FakeJob:
    """A `JobRun` with what it logged (`log`) and published (`published`, (sub_key, table) pairs)."""

    job: JobRun
    log: FakeLog
    published: list[tuple[str, Any]]

    @property
    def timeline(self) -> list[Event]:
        return self.log.timeline


def make_job(
    *,
    job_class: str,
    job_params: Mapping[str, Any],
    entity_group: str,
    entity_key: str,
    catalog: Any,
    work_folder: Path,
    sub_key: str | None = None,
    plan_id: int | None = None,
    options: Mapping[str, str] | None = None,
    cancel: CancelWatch | None = None,
) -> FakeJob:
    log = FakeLog()
    published: list[tuple[str, Any]] = []

    def publish(key: str, table: Any) -> None:
        published.append((key, table))
        log.timeline.append(("result", key, table))

    job = JobRun(
        job_class=job_class,
        job_params=job_params,
        entity_group=entity_group,
        entity_key=entity_key,
        catalog=catalog,
        log=log,
        publish_result=publish,
        work_folder=work_folder,
        sub_key=sub_key,
        plan_id=plan_id,
        options=options or {},
        cancel=cancel or CancelWatch.never(),
    )
    return FakeJob(job, log, published)


def bare_job(work_folder: Path, *, entity_group: str, entity_key: str) -> FakeJob:
    """A `JobRun` of no particular job (class "x", no params, an empty catalog): for `JobRun`'s own tests."""
    return make_job(
        job_class="x",
        job_params={},
        entity_group=entity_group,
        entity_key=entity_key,
        catalog=MemoryCatalog(),
        work_folder=work_folder,
    )


# The report sections an app job renders in tests (instead of reading datasets).
def _sections() -> list[Any]:
    from taskcenter.adapters.jobs.report import ReportSection

    return [
        ReportSection(
            title="orders",
            columns=["id", "product"],
            rows=[[1, "Widget <XL>"], [2, "Gadget"]],
            note="dataset 1-1 · 2 rows",
        ),
        ReportSection(title="customers", columns=["id", "city"], rows=[[1, "Lhasa"]], note="dataset 1-2 · 1 row"),
    ]


SECTIONS = _sections()


@pytest.fixture
def sections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stands in for dataset.py: the runners' seam is report.collect_sections; records the app ids.

    A fixture of the app job tests (SCREENSHOT, APP_EMAIL) in tests/unit and tests/component: their
    conftest.py files import it.
    """
    from taskcenter.adapters.jobs import report

    calls: list[Any] = []

    def collect(job: JobRun, app_id: Any, *, limit: int = 20, log: Any = None) -> list[Any]:
        calls.append(app_id)
        return SECTIONS

    monkeypatch.setattr(report, "collect_sections", collect)
    return calls


def app_job(
    tmp_path: Path, *, group: str, job_class: str, definition: dict[str, Any], options: dict[str, str] | None = None
) -> tuple[JobRun, list[tuple[str, Any]]]:
    """A job of app 1 of `group` with the given definition; returns the JobRun and its published results."""
    fake = make_job(
        job_class=job_class,
        job_params={"app": 1},
        entity_group=group,
        entity_key="1",
        catalog=MemoryCatalog(Entity(group=group, key="1", title="app1", definition=definition), folder=tmp_path),
        work_folder=tmp_path / "out",
        options=options,
    )
    return fake.job, fake.published


class Stopped(BaseException):
    """What the operator's on_kill raises (SystemExit) in these Airflow-free tests."""


def stop_once_ready(
    work: Callable[[], Any], *, processes: ChildProcesses, ready: Callable[[], Any], timeout: float
) -> tuple[Any, float]:
    """Run `work` as a task runs until Airflow stops it; return what `ready()` saw and the seconds it ran.

    Once `ready()` returns something (or after `timeout` s) this process gets SIGTERM, whose handler
    does what the operator's `on_kill` does in Airflow's handler: terminate the job's registered
    processes, then raise `Stopped` in `work`.
    """
    seen: list[Any] = []

    def on_sigterm(signum: int, frame: Any) -> None:
        processes.terminate()
        raise Stopped()

    def stop_once_ready_() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := ready():
                seen.append(found)
                break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        threading.Thread(target=stop_once_ready_, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(Stopped):
            work()
        elapsed = time.monotonic() - started
    finally:
        signal.signal(signal.SIGTERM, previous)
    return (seen[0] if seen else None), elapsed
