"""Benchmark: N plans on one small machine (issue 11), against native Airflow in the same run.

    .venv/bin/python benchmarks/bench_scale.py [--plans 1000] [--burst 100] [--runs 10000]
        [--backend postgres|sqlite] [--phases idle,create,changes,lists,lateness,burst]
        [--idle-seconds 60] [--native separate|same|none]
    (or: make bench-scale SCALE_ARGS='--plans 10000')

The issue's sizes are `--plans 10000` (then `--burst` defaults to 1,000 and `--runs` to 100,000:
N/10 and 10 x N). Most of a run is fixed cost (two instances started, four idle windows, two
3-minute lateness windows, the lists); the rest grows with N, mostly the parsing of N new DAG files
on each side. Try it small first: `--plans 200 --burst 50 --runs 2000 --idle-seconds 30` (about
20 minutes). `--native-plans` gives the native side a smaller N: with Airflow's defaults its
dag-processor re-parses every file every 30 s, so 10,000 native files take long to be parsed.

It starts one taskcenter on a temporary AIRFLOW_HOME (tests/integration/harness.py: the embedded
PostgreSQL server, or `--backend sqlite`; LocalExecutor; the harness's quick test job runners) with
an entity catalog of N (+ a few) entities (NOTEBOOK, PIPELINE, DATASET in turn), and creates N
plans through the API, each with a yearly cron item (`0 0 0 1 1 ?`, UTC) that is not due during the
run. Then, on that instance, in this order (each phase selectable with `--phases`):

- idle: the product's CPU (every component's process tree: user + system of the living processes
  and of the children they reaped, at the window's start and end) and the growth of every log file
  under the home, over `--idle-seconds`, once with 0 plans (before they are created) and once with
  N plans, each after `--settle` seconds of quiet (no parse request pending, no run active);
- create: creation rate of one sequential client (`POST /api/schedules`), the time until all N
  plans' DAGs are schedulable (unpaused, next run computed), and the memory (RSS and PSS of every
  component's process tree) at 10 plans and at N plans;
- changes: `--samples` times each: create a plan, update its cron, disable, enable, delete; from
  sending the request until `/api/v2/dags/<dag_id>` shows the change (schedulable; the new
  `next_dagrun_run_after`; `is_paused`; 404 or `is_stale`);
- lists: `--runs` finished runs (90% success, 10% failed, spread over 90 days) inserted by SQL into
  `dag_run` for the N plan DAGs, then up to `--list-requests` calls of each plan/context list and
  users endpoint, against Airflow's `/api/v2/dags` and `/api/v2/dags/~/dagRuns` on the same data;
- lateness: N/100 plans get a per-minute cron (`<s> * * * * ?`, seconds spread over the minute) for
  `--lateness-minutes`; created lateness (the run's `queued_at` - its fire time) and started
  lateness (its task's `start_date` - fire time) of every run in that window;
- burst: `--burst` plans all due at the same second T (a minute boundary far enough ahead for the
  updates to be parsed; a 7-field Quartz cron with T's year); created and started lateness of every
  run, and when the last one was created and started (waits at most `--burst-timeout`).

Native Airflow (`--native separate`, the default) runs on a second instance started afterwards
(the same product and [core] options, but Airflow's own defaults for every [scheduler] and
[dag_processor] option the product sets, the list is printed) with N hand-written DAG files (one
BashOperator `true` each, through the executor like a plan's job; 5-field cron `0 0 1 1 *`),
written at once with parse requests (Airflow's fastest path): the same idle, create (N files ->
schedulable), changes (new file + parse request, rewritten file + parse request, PATCH is_paused,
file removed + DELETE), lateness (N/100 DAGs with `* * * * *`: Airflow's cron has no seconds, so
they all fire at second 0) and burst (the same T, on a minute boundary). `--native same` runs
changes, lateness and burst on the product's instance instead (faster, no idle/create comparison);
`--native none` skips them. Lists compare with Airflow's API on the product's instance.

Every started process is stopped and every temporary home deleted at the end, on Ctrl-C and on
failure too. Results are printed as markdown tables (progress goes to stderr); the tables of the
phases done so far are printed even when a later phase fails.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psutil
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.loadmix import percentile  # noqa: E402
from taskcenter.domain.jobs import default_job_params  # noqa: E402
from taskcenter.domain.plans import EntityGroup  # noqa: E402
from taskcenter.launcher.components import StartupError  # noqa: E402
from tests.integration.harness import RunningTaskCenter, add_dag_files, start_taskcenter  # noqa: E402
from tests.integration.jobs import SUCCEED  # noqa: E402

PHASES = ("idle", "create", "changes", "lists", "lateness", "burst")
UTC = timezone.utc
YEARLY_QUARTZ = "0 0 0 1 1 ?"  # 00:00 UTC on 1 January: not due while the benchmark runs
YEARLY_UNIX = "0 0 1 1 *"
GROUPS = ("NOTEBOOK", "PIPELINE", "DATASET")
SMALL = 10  # the plan count of the small memory figure
NATIVE_PREFIX = "scale_native_"
# Options the native instance keeps although the product sets them in those sections.
KEEP_NATIVE = {("dag_processor", "dag_bundle_config_list"), ("scheduler", "enable_health_check")}

# start_date: when the file was written. With an older one and catchup=False, Airflow's cron
# timetable runs the latest past tick at once (a run for 1 January of this year for `0 0 1 1 *`);
# a Quartz scheduler does not, and neither does a plan.
NATIVE_DAG = '''"""A hand-written DAG of the scale benchmark: one BashOperator `true` (it runs through the executor)."""
from datetime import datetime, timezone

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="{dag_id}", schedule="{cron}", start_date=datetime.fromisoformat("{start}"), catchup=False,
         is_paused_upon_creation=False, tags=["bench-scale"]):
    BashOperator(task_id="job", bash_command="true")
'''

# The few columns of Airflow's tables the benchmark reads or writes (no Airflow import here: it
# would configure Airflow for this process). sa.DateTime keeps SQLite's storage format, as Airflow's.
META = sa.MetaData()
DAG_T = sa.Table(
    "dag", META,
    sa.Column("dag_id", sa.String, primary_key=True),
    sa.Column("is_paused", sa.Boolean),
    sa.Column("is_stale", sa.Boolean),
    sa.Column("next_dagrun_create_after", sa.DateTime(timezone=True)),
)
RUN_T = sa.Table(
    "dag_run", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dag_id", sa.String),
    sa.Column("run_id", sa.String),
    sa.Column("run_type", sa.String),
    sa.Column("state", sa.String),
    sa.Column("queued_at", sa.DateTime(timezone=True)),
    sa.Column("logical_date", sa.DateTime(timezone=True)),
    sa.Column("start_date", sa.DateTime(timezone=True)),
    sa.Column("end_date", sa.DateTime(timezone=True)),
    sa.Column("run_after", sa.DateTime(timezone=True)),
    sa.Column("data_interval_start", sa.DateTime(timezone=True)),
    sa.Column("data_interval_end", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("triggered_by", sa.String),
    sa.Column("conf", sa.JSON),
    sa.Column("clear_number", sa.Integer),
    sa.Column("log_template_id", sa.Integer),
    sa.Column("span_status", sa.String),
    sa.Column("created_dag_version_id", sa.String),
)
TI_T = sa.Table(
    "task_instance", META,
    sa.Column("dag_id", sa.String),
    sa.Column("run_id", sa.String),
    sa.Column("task_id", sa.String),
    sa.Column("start_date", sa.DateTime(timezone=True)),
)
PARSE_T = sa.Table("dag_priority_parsing_request", META, sa.Column("id", sa.String, primary_key=True))
VERSION_T = sa.Table(
    "dag_version", META,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("dag_id", sa.String),
    sa.Column("version_number", sa.Integer),
)

_T0 = time.monotonic()


def log(message: str) -> None:
    """Progress, on stderr (stdout keeps the tables)."""
    print(f"[{time.strftime('%H:%M:%S')} +{time.monotonic() - _T0:5.0f}s] {message}", file=sys.stderr, flush=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: Any) -> datetime | None:
    """A DB or API datetime as an aware UTC datetime (SQLite gives naive UTC, the API ISO strings)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def chunks(items: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Stat:
    n: int
    p50: float | None
    p95: float | None
    max: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        return cls(len(values), percentile(values, 50), percentile(values, 95), max(values) if values else None)


def fmt_s(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f} s"


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:,.0f} ms"


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f} MB"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- an instance and what the benchmark reads of it ----------------------------------------------------


@dataclass
class Instance:
    """A started product; `native`: the instance (or the side) that runs the hand-written DAGs."""

    label: str
    tc: RunningTaskCenter
    engine: sa.Engine
    scratch: Path
    _kept: requests.Session | None = None

    @property
    def home(self) -> Path:
        return self.tc.home

    def api(self, method: str, path: str, *, keep_alive: bool = False, **kwargs: Any) -> requests.Response:
        """A call with the admin token: a new connection each (the harness's way), or one kept open.

        The creation phase keeps its connection, as any HTTP client does: a connection per request
        cost the api-server ~8 ms of each ~20 ms POST. It sends without pause, so uvicorn's 5 s
        idle timeout never closes the connection under it (the harness's reason for a new one).
        """
        if not keep_alive:
            return self.tc.request(method, path, **kwargs)
        if self._kept is None:
            self._kept = requests.Session()
        headers = kwargs.pop("headers", {"Authorization": f"Bearer {self.tc.token}"})
        return self._kept.request(method, self.tc.url(path), headers=headers, timeout=60, **kwargs)

    def ready(self, dag_ids: Sequence[str], *, at: datetime | None = None, before: datetime | None = None) -> set[str]:
        """The DAGs that are schedulable: unpaused, not stale, next run computed (= `at`, or < `before`)."""
        found: set[str] = set()
        with self.engine.connect() as conn:
            for part in chunks(list(dag_ids)):
                rows = conn.execute(
                    sa.select(DAG_T.c.dag_id, DAG_T.c.next_dagrun_create_after).where(
                        DAG_T.c.dag_id.in_(part), DAG_T.c.is_paused.is_(False), DAG_T.c.is_stale.is_(False),
                        DAG_T.c.next_dagrun_create_after.is_not(None),
                    )
                )
                for dag_id, next_run in rows:
                    next_run = aware(next_run)
                    if (at is None or next_run == at) and (before is None or next_run < before):
                        found.add(dag_id)
        return found

    def wait_ready(self, dag_ids: Sequence[str], *, timeout: float, what: str, at: datetime | None = None,
                   before: datetime | None = None, until: datetime | None = None) -> tuple[float, int]:
        """Seconds until every DAG is schedulable (or the timeout/`until` passed) and how many are."""
        start = time.monotonic()
        last_note = start
        ready: set[str] = set()
        while True:
            ready = self.ready(dag_ids, at=at, before=before)
            if len(ready) == len(dag_ids):
                return time.monotonic() - start, len(ready)
            now = time.monotonic()
            if now - start > timeout or (until is not None and utcnow() >= until):
                log(
                    f"{self.label}: {what}: only {len(ready)} of {len(dag_ids)} DAGs schedulable after "
                    f"{now - start:.0f} s"
                )
                return now - start, len(ready)
            if now - last_note > 30:
                log(f"{self.label}: {what}: {len(ready)} of {len(dag_ids)} schedulable after {now - start:.0f} s")
                last_note = now
            time.sleep(0.5 if len(dag_ids) > 50 else 0.1)

    def pending_parse_requests(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(PARSE_T)) or 0

    def active_runs(self) -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.select(RUN_T.c.dag_id, RUN_T.c.run_id).where(RUN_T.c.state.in_(("queued", "running")))
                )
            ]

    def drain(self, *, timeout: float) -> None:
        """Wait until no run is queued or running; then end what is left as failed (Airflow's API)."""
        deadline = time.monotonic() + timeout
        while (active := self.active_runs()) and time.monotonic() < deadline:
            time.sleep(2)
        if active:
            log(f"{self.label}: {len(active)} run(s) still active after {timeout:.0f} s; marking them failed")
            for dag_id, run_id in active:
                self.api("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", json={"state": "failed"})
            end = time.monotonic() + 60
            while self.active_runs() and time.monotonic() < end:
                time.sleep(2)

    def settle(self, seconds: float) -> None:
        """No parse request pending and no run active, then `seconds` of quiet."""
        deadline = time.monotonic() + 600
        while self.pending_parse_requests() and time.monotonic() < deadline:
            time.sleep(1)
        self.drain(timeout=300)
        time.sleep(seconds)

    def runs_of(
        self, dag_ids: Sequence[str], *, since: datetime, before: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The runs of these DAGs due at or after `since` (and before `before`), with their first task's start."""
        rows: list[dict[str, Any]] = []
        first_start = sa.select(sa.func.min(TI_T.c.start_date)).where(
            TI_T.c.dag_id == RUN_T.c.dag_id, TI_T.c.run_id == RUN_T.c.run_id
        ).scalar_subquery()
        with self.engine.connect() as conn:
            for part in chunks(list(dag_ids)):
                query = sa.select(
                    RUN_T.c.dag_id, RUN_T.c.run_id, RUN_T.c.run_type, RUN_T.c.run_after, RUN_T.c.queued_at,
                    RUN_T.c.created_at, first_start.label("first_start"),
                ).where(RUN_T.c.dag_id.in_(part), RUN_T.c.run_after >= since)
                if before is not None:
                    query = query.where(RUN_T.c.run_after < before)
                for row in conn.execute(query):
                    rows.append({
                        "dag_id": row.dag_id, "run_id": row.run_id, "run_type": row.run_type,
                        "run_after": aware(row.run_after), "queued_at": aware(row.queued_at) or aware(row.created_at),
                        "first_start": aware(row.first_start),
                    })
        return rows

    def dag(self, dag_id: str) -> tuple[int, dict[str, Any]]:
        response = self.api("GET", f"/api/v2/dags/{dag_id}")
        return response.status_code, (response.json() if response.status_code == 200 else {})


# -- processes: CPU and memory of every component's process tree ----------------------------------------


@dataclass(frozen=True)
class Usage:
    at: float
    cpu: dict[str, float]  # component -> CPU seconds so far (living tree: own + reaped children)
    rss: dict[str, int]
    pss: dict[str, int]
    procs: dict[str, int]
    leaders: dict[str, int]
    machine_busy: float  # CPU seconds of the whole machine (not idle, not iowait)
    bench_cpu: float  # this benchmark process's own CPU seconds


def usage(inst: Instance, *, memory: bool = False) -> Usage:
    components = [c for c in inst.tc.stack.all_components if c.pid is not None]
    by_session: dict[int, list[psutil.Process]] = defaultdict(list)
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            by_session[os.getsid(proc.pid)].append(proc)
    cpu, rss, pss, procs, leaders = {}, {}, {}, {}, {}
    for component in components:
        tree: dict[int, psutil.Process] = {}
        with contextlib.suppress(psutil.Error):
            leader = psutil.Process(component.pid)
            tree[leader.pid] = leader
            for child in leader.children(recursive=True):
                tree[child.pid] = child
        # Processes of the component's session that were re-parented (their parent died) count too.
        for proc in by_session.get(component.pid, []):
            tree.setdefault(proc.pid, proc)
        seconds, resident, proportional = 0.0, 0, 0
        for proc in tree.values():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                seconds += times.user + times.system + times.children_user + times.children_system
                if memory:
                    info = proc.memory_full_info()
                    resident += info.rss
                    proportional += getattr(info, "pss", 0)
        cpu[component.name] = seconds
        rss[component.name], pss[component.name] = resident, proportional
        procs[component.name] = len(tree)
        leaders[component.name] = component.pid
    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    own = psutil.Process().cpu_times()
    return Usage(time.monotonic(), cpu, rss, pss, procs, leaders, busy, own.user + own.system)


def log_sizes(home: Path) -> dict[str, int]:
    """Every log file under the home (the `logs` folder and any `*.log`), by path relative to the home."""
    sizes: dict[str, int] = {}
    for folder, dirs, files in os.walk(home):
        rel_folder = Path(folder).relative_to(home)
        if rel_folder.parts[:1] in (("postgres",), ("dags",)):
            dirs[:] = []
            continue
        for name in files:
            rel = rel_folder / name
            if rel.parts[:1] == ("logs",) or name.endswith(".log"):
                with contextlib.suppress(OSError):
                    sizes[str(rel)] = (Path(folder) / name).stat().st_size
    return sizes


def log_group(rel: str) -> str:
    parts = rel.split("/")
    if parts[:2] == ["logs", "components"] or len(parts) <= 2:
        return rel
    if parts[1].startswith("dag_id="):
        return "logs/dag_id=*/ (task logs)"
    return "/".join(parts[:2]) + "/**"


@dataclass(frozen=True)
class Idle:
    plans: int
    seconds: float
    cpu: dict[str, float]  # component -> cores
    machine: float  # cores busy on the whole machine
    bench: float  # cores of this benchmark process
    logs: dict[str, tuple[int, int, int]]  # group -> (bytes grown, files grown, new files)
    restarted: list[str]


def idle_window(inst: Instance, *, plans: int, seconds: float, settle: float) -> Idle:
    log(f"{inst.label}: idle with {plans} plans/DAGs: settling {settle:.0f} s, then a {seconds:.0f} s window")
    inst.settle(settle)
    logs_before = log_sizes(inst.home)
    before = usage(inst)
    time.sleep(seconds)
    after = usage(inst)
    logs_after = log_sizes(inst.home)
    window = after.at - before.at
    cpu = {name: max(0.0, after.cpu[name] - before.cpu.get(name, 0.0)) / window for name in after.cpu}
    restarted = [name for name, pid in after.leaders.items() if before.leaders.get(name) != pid]
    grown: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for rel, size in logs_after.items():
        old = logs_before.get(rel)
        if old is None or size != old:
            entry = grown[log_group(rel)]
            entry[0] += size - (old or 0)
            entry[1] += 1
            entry[2] += old is None
    result = Idle(
        plans=plans,
        seconds=window,
        cpu=cpu,
        machine=(after.machine_busy - before.machine_busy) / window,
        bench=(after.bench_cpu - before.bench_cpu) / window,
        logs={k: tuple(v) for k, v in grown.items()},
        restarted=restarted,
    )
    log(f"{inst.label}: idle with {plans}: product {sum(cpu.values()):.3f} cores (machine {result.machine:.2f}), "
        f"logs grew {sum(v[0] for v in result.logs.values()):,} bytes")
    return result


@dataclass(frozen=True)
class Memory:
    plans: int
    rss: dict[str, int]
    pss: dict[str, int]
    procs: dict[str, int]


def memory(inst: Instance, plans: int) -> Memory:
    sample = usage(inst, memory=True)
    log(
        f"{inst.label}: memory at {plans}: RSS {fmt_mb(sum(sample.rss.values()))}, PSS "
        f"{fmt_mb(sum(sample.pss.values()))}"
    )
    return Memory(plans=plans, rss=sample.rss, pss=sample.pss, procs=sample.procs)


# -- plans (taskcenter) and DAG files (native): the fleet of N ----------------------------------------


@dataclass(frozen=True)
class Member:
    """One of the N: a plan (`plan_id`, its cron item) or a native DAG file."""

    dag_id: str
    plan_id: int | None = None
    item_id: int | None = None
    group: str = ""
    key: str = ""


def catalog(count: int) -> dict[str, Any]:
    """`count` entities, NOTEBOOK, PIPELINE, DATASET in turn (keys from 1; a dataset's key is `<n>-1`)."""
    entities: dict[str, dict[str, Any]] = {g: {} for g in GROUPS}
    for n in range(1, count + 1):
        group = GROUPS[n % len(GROUPS)]
        if group == "DATASET":
            entities[group][f"{n}-1"] = {
                "title": f"scale dataset {n}", "createdBy": 1, "path": f"scale/app{n}/dataset1", "importType": 1,
                "datasetType": "sql", "isVirtual": False, "updateMethod": "ALL", "updateMethodSwitchable": True,
            }
        else:
            entities[group][str(n)] = {
                "title": f"scale {group.lower()} {n}",
                "createdBy": 1,
                "path": f"scale/{group.lower()}{n}",
            }
    return {"description": "Entities of the scale benchmark (benchmarks/bench_scale.py).", "entities": entities}


def entity_list(count: int) -> list[tuple[str, str]]:
    return [
        (GROUPS[n % len(GROUPS)], f"{n}-1" if GROUPS[n % len(GROUPS)] == "DATASET" else str(n))
        for n in range(1, count + 1)
    ]


def cron_item(cron: str) -> dict[str, Any]:
    return {"triggerType": "CRON_JOB", "cronDesc": cron, "cronType": "CRON", "timeZone": "UTC"}


def plan_body(group: str, key: str, cron: str) -> dict[str, Any]:
    return {
        "entityGroup": group, "entityKey": key, "planItems": [cron_item(cron)],
        "execDetail": {"jobClass": SUCCEED, "jobParams": default_job_params(EntityGroup(group), key), "retryTimes": 0},
    }


def call(
    inst: Instance, method: str, path: str, *, attempts: int = 5, keep_alive: bool = False, **kwargs: Any
) -> tuple[requests.Response | None, float, str]:
    """One API call, repeated on 503 or a broken connection; (answer, seconds of the last attempt, error)."""
    error = ""
    for attempt in range(1, attempts + 1):
        start = time.perf_counter()
        try:
            response = inst.api(method, path, keep_alive=keep_alive, **kwargs)
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        else:
            elapsed = time.perf_counter() - start
            if response.status_code != 503 or attempt == attempts:
                ok = response.status_code < 300
                return response, elapsed, "" if ok else f"HTTP {response.status_code}: {response.text[:200]}"
            error = f"HTTP 503: {response.text[:200]}"
        time.sleep(min(5.0, 0.5 * attempt))
    return None, 0.0, error


def native_source(dag_id: str, cron: str) -> str:
    return NATIVE_DAG.format(dag_id=dag_id, cron=cron, start=utcnow().replace(microsecond=0).isoformat())


def write_native(inst: Instance, files: dict[str, str]) -> None:
    """DAG files into the dags folder with parse requests (Airflow's fastest path)."""
    inst.tc.settings.dags_folder.mkdir(parents=True, exist_ok=True)
    add_dag_files(
        inst.tc.settings.dags_folder, inst.tc.settings.sql_alchemy_conn, {f"{d}.py": s for d, s in files.items()}
    )


@dataclass
class Create:
    members: int = 0
    failed: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # per POST (taskcenter)
    write_seconds: float = 0.0  # writing the files (native)
    all_ready: float | None = None  # seconds from the first request/file to all schedulable
    ready: int = 0
    small: Memory | None = None
    large: Memory | None = None

    @property
    def rate(self) -> float | None:
        busy = sum(self.latencies)
        return self.members / busy if busy else None


def create_plans(
    inst: Instance, entities: Sequence[tuple[str, str]], args: argparse.Namespace, result: Create
) -> list[Member]:
    """N plans through the API, one sequential client; memory at SMALL plans (when measured)."""
    members: list[Member] = []
    start = time.monotonic()
    paused = 0.0
    for group, key in entities:
        response, seconds, error = call(
            inst, "POST", "/api/schedules", keep_alive=True, json=plan_body(group, key, YEARLY_QUARTZ)
        )
        result.latencies.append(seconds)
        if error or response is None:
            result.failed.append(f"{group} {key}: {error}")
            if len(result.failed) >= 20 and not members:
                raise RuntimeError(f"plan creation fails: {result.failed[:3]}")
            continue
        data = response.json()["data"]
        items = data.get("planItems") or [{}]
        members.append(
            Member(
                dag_id=f"taskcenter_plan_{data['id']}",
                plan_id=data["id"],
                item_id=items[0].get("id"),
                group=group,
                key=key,
            )
        )
        if len(members) % 500 == 0:
            log(f"{inst.label}: {len(members)} plans created ({len(members) / sum(result.latencies):.1f}/s)")
        if "create" in args.phases and len(members) == SMALL and len(entities) > SMALL:
            pause = time.monotonic()
            inst.wait_ready([m.dag_id for m in members], timeout=120, what=f"{SMALL} plans")
            inst.settle(10)
            result.small = memory(inst, SMALL)
            paused += time.monotonic() - pause
            inst._kept = None  # idle longer than uvicorn keeps a connection: open a new one
    result.members = len(members)
    log(
        f"{inst.label}: {len(members)} plans created in {sum(result.latencies):.0f} s of requests; waiting until all "
        "are schedulable"
    )
    waited, result.ready = inst.wait_ready([m.dag_id for m in members], timeout=args.parse_timeout, what="all plans")
    result.all_ready = time.monotonic() - start - paused
    if result.failed:
        log(f"{inst.label}: {len(result.failed)} create(s) failed, e.g. {result.failed[:3]}")
    return members


def create_native(inst: Instance, count: int, args: argparse.Namespace, result: Create, *, small: bool) -> list[Member]:
    """N DAG files with parse requests; memory at SMALL DAGs (when `small`)."""
    members = [Member(dag_id=f"{NATIVE_PREFIX}{i}") for i in range(count)]
    first = members[:SMALL] if small and count > SMALL else []
    start = time.monotonic()
    paused = 0.0
    if first:
        write_native(inst, {m.dag_id: native_source(m.dag_id, YEARLY_UNIX) for m in first})
        inst.wait_ready([m.dag_id for m in first], timeout=120, what=f"{SMALL} DAGs")
        pause = time.monotonic()
        inst.settle(10)
        result.small = memory(inst, SMALL)
        paused = time.monotonic() - pause
    rest = members[len(first):]
    written = time.monotonic()
    write_native(inst, {m.dag_id: native_source(m.dag_id, YEARLY_UNIX) for m in rest})
    result.write_seconds = time.monotonic() - written
    result.members = count
    log(f"{inst.label}: {count} DAG files written; waiting until all are schedulable")
    _, result.ready = inst.wait_ready([m.dag_id for m in members], timeout=args.parse_timeout, what="all DAGs")
    result.all_ready = time.monotonic() - start - paused
    return members


# -- changes ---------------------------------------------------------------------------------------------


@dataclass
class Changes:
    total: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # sent -> visible
    answer: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # sent -> answered
    errors: list[str] = field(default_factory=list)


CHANGE_KINDS = ("create", "update", "disable", "enable", "delete")


def wait_dag(
    inst: Instance, dag_id: str, predicate: Callable[[int, dict[str, Any]], bool], *, start: float, timeout: float
) -> float | None:
    while time.perf_counter() - start < timeout:
        status, body = inst.dag(dag_id)
        if predicate(status, body):
            return time.perf_counter() - start
        time.sleep(0.05)
    return None


def schedulable(status: int, body: dict[str, Any]) -> bool:
    return status == 200 and body.get("is_paused") is False and body.get("next_dagrun_run_after") is not None


def updated_to(expected: datetime, cron: str) -> Callable[[int, dict[str, Any]], bool]:
    """The new next run is set and the new timetable parsed (its summary names the new cron)."""
    return lambda status, body: (
        status == 200
        and aware(body.get("next_dagrun_run_after")) == expected
        and cron in (body.get("timetable_summary") or "")
    )


def paused_is(value: bool) -> Callable[[int, dict[str, Any]], bool]:
    return lambda status, body: (
        status == 200 and body.get("is_paused") is value and (value or body.get("next_dagrun_run_after") is not None)
    )


def gone(status: int, body: dict[str, Any]) -> bool:
    return status == 404 or (status == 200 and body.get("is_stale") is True)


def next_january(day: int) -> datetime:
    """The next 00:00 UTC on `day` January (what Airflow's `0 0 <day> 1 *` fires next)."""
    now = utcnow()
    candidate = datetime(now.year, 1, day, tzinfo=UTC)
    return candidate if candidate > now else datetime(now.year + 1, 1, day, tzinfo=UTC)


def record(result: Changes, kind: str, sent: float, answered: float, visible: float | None, error: str) -> None:
    if error:
        result.errors.append(f"{kind}: {error}")
    elif visible is None:
        result.errors.append(f"{kind}: not visible within {CHANGE_TIMEOUT:.0f} s")
    else:
        result.total[kind].append(visible)
        result.answer[kind].append(answered - sent)


CHANGE_TIMEOUT = 60.0


def changes_taskcenter(inst: Instance, entities: Sequence[tuple[str, str]], samples: int) -> Changes:
    result = Changes()
    for i, (group, key) in enumerate(entities[:samples]):
        sent = time.perf_counter()
        response, _, error = call(inst, "POST", "/api/schedules", attempts=1, json=plan_body(group, key, YEARLY_QUARTZ))
        answered = time.perf_counter()
        if error or response is None:
            record(result, "create", sent, answered, None, error or "no answer")
            continue
        data = response.json()["data"]
        plan_id, dag_id = data["id"], f"taskcenter_plan_{data['id']}"
        record(
            result,
            "create",
            sent,
            answered,
            wait_dag(inst, dag_id, schedulable, start=sent, timeout=CHANGE_TIMEOUT),
            "",
        )

        day = 2 + i % 27
        cron = f"0 0 0 {day} 1 ? 2099"
        sent = time.perf_counter()
        _, _, error = call(inst, "PUT", f"/api/schedules/{plan_id}", attempts=1, json={"planItems": [cron_item(cron)]})
        answered = time.perf_counter()
        visible = (
            None
            if error
            else wait_dag(
                inst, dag_id, updated_to(datetime(2099, 1, day, tzinfo=UTC), cron), start=sent, timeout=CHANGE_TIMEOUT
            )
        )
        record(result, "update", sent, answered, visible, error)

        for kind, paused in (("disable", True), ("enable", False)):
            sent = time.perf_counter()
            _, _, error = call(inst, "POST", f"/api/schedules/{plan_id}/{kind}", attempts=1, json={})
            answered = time.perf_counter()
            visible = None if error else wait_dag(inst, dag_id, paused_is(paused), start=sent, timeout=CHANGE_TIMEOUT)
            record(result, kind, sent, answered, visible, error)

        sent = time.perf_counter()
        _, _, error = call(inst, "DELETE", f"/api/schedules/{plan_id}", attempts=1)
        answered = time.perf_counter()
        record(
            result,
            "delete",
            sent,
            answered,
            None if error else wait_dag(inst, dag_id, gone, start=sent, timeout=CHANGE_TIMEOUT),
            error,
        )
    return result


def changes_native(inst: Instance, samples: int) -> Changes:
    result = Changes()
    for i in range(samples):
        dag_id = f"scale_change_{i}"
        sent = time.perf_counter()
        write_native(inst, {dag_id: native_source(dag_id, YEARLY_UNIX)})
        record(
            result,
            "create",
            sent,
            time.perf_counter(),
            wait_dag(inst, dag_id, schedulable, start=sent, timeout=CHANGE_TIMEOUT),
            "",
        )

        day = 2 + i % 27
        cron = f"0 0 {day} 1 *"
        sent = time.perf_counter()
        write_native(inst, {dag_id: native_source(dag_id, cron)})
        record(
            result,
            "update",
            sent,
            time.perf_counter(),
            wait_dag(inst, dag_id, updated_to(next_january(day), cron), start=sent, timeout=CHANGE_TIMEOUT),
            "",
        )

        for kind, paused in (("disable", True), ("enable", False)):
            sent = time.perf_counter()
            _, _, error = call(inst, "PATCH", f"/api/v2/dags/{dag_id}", attempts=1, json={"is_paused": paused})
            answered = time.perf_counter()
            visible = None if error else wait_dag(inst, dag_id, paused_is(paused), start=sent, timeout=CHANGE_TIMEOUT)
            record(result, kind, sent, answered, visible, error)

        sent = time.perf_counter()
        (inst.tc.settings.dags_folder / f"{dag_id}.py").unlink(missing_ok=True)
        _, _, error = call(inst, "DELETE", f"/api/v2/dags/{dag_id}", attempts=1)
        answered = time.perf_counter()
        record(
            result,
            "delete",
            sent,
            answered,
            None if error else wait_dag(inst, dag_id, gone, start=sent, timeout=CHANGE_TIMEOUT),
            error,
        )
    return result


# -- fire lateness: runs due at known times --------------------------------------------------------------


@dataclass
class Fires:
    expected: int = 0
    ready_before: int = 0  # DAGs schedulable for the right time before the first fire
    created: list[float] = field(default_factory=list)  # queued_at - fire time, per run
    started: list[float] = field(default_factory=list)  # first task start - fire time, per run
    unexpected: int = 0  # runs in the window at another time than expected (e.g. Airflow's catch-up run)
    fire: datetime | None = None
    window: float = 0.0
    note: str = ""


def collect(inst: Instance, dag_ids: Sequence[str], *, since: datetime, before: datetime, expected: int,
            until: float, result: Fires, fires: Callable[[dict[str, Any]], bool]) -> None:
    """Wait (until the monotonic time `until`) for `expected` runs due in [since, before) to start; record them."""
    last_note = time.monotonic()
    while True:
        runs = [r for r in inst.runs_of(dag_ids, since=since, before=before) if r["run_type"] == "scheduled"]
        started = [r for r in runs if r["first_start"] is not None]
        now = time.monotonic()
        if (len(started) >= expected and utcnow() >= before) or now > until:
            break
        if now - last_note > 20:
            log(f"{inst.label}: {len(runs)} of {expected} runs created, {len(started)} started")
            last_note = now
        time.sleep(1)
    for run in runs:
        if not fires(run):
            result.unexpected += 1
            continue
        result.created.append((run["queued_at"] - run["run_after"]).total_seconds())
        if run["first_start"] is not None:
            result.started.append((run["first_start"] - run["run_after"]).total_seconds())


def next_minute(at: datetime) -> datetime:
    return (at + timedelta(minutes=1)).replace(second=0, microsecond=0)


def lateness(inst: Instance, members: Sequence[Member], args: argparse.Namespace, *, native: bool) -> Fires:
    """N/100 of the fleet fire every minute for `--lateness-minutes`; their runs' lateness."""
    result = Fires()
    chosen = list(members[: max(1, len(members) // 100)])
    k = len(chosen)
    seconds = [0] * k if native else [(i * 60) // k for i in range(k)]
    log(f"{inst.label}: lateness: {k} DAGs firing every minute" + ("" if native else " (seconds spread)"))
    set_crons(inst, chosen, ["* * * * *" if native else f"{s} * * * * ?" for s in seconds], native=native)
    _, result.ready_before = inst.wait_ready([m.dag_id for m in chosen], timeout=120, what="lateness DAGs",
                                            before=utcnow() + timedelta(seconds=125))
    since = next_minute(utcnow() + timedelta(seconds=2))
    before = since + timedelta(minutes=args.lateness_minutes)
    result.expected = k * args.lateness_minutes
    result.fire, result.window = since, (before - since).total_seconds()
    log(f"{inst.label}: lateness window {since:%H:%M:%S}-{before:%H:%M:%S} UTC, {result.expected} runs expected")
    wait = (before - utcnow()).total_seconds() + args.lateness_grace
    second = {m.dag_id: s for m, s in zip(chosen, seconds, strict=True)}
    collect(inst, [m.dag_id for m in chosen], since=since, before=before, expected=result.expected,
            until=time.monotonic() + wait, result=result, fires=lambda r: r["run_after"].second == second[r["dag_id"]])
    set_crons(inst, chosen, [YEARLY_UNIX if native else YEARLY_QUARTZ] * k, native=native)
    return result


def set_crons(inst: Instance, members: Sequence[Member], crons: Sequence[str], *, native: bool) -> list[float]:
    """Give each DAG its cron: PUT the plan's items, or rewrite the DAG file (with parse requests)."""
    if native:
        start = time.perf_counter()
        write_native(inst, {m.dag_id: native_source(m.dag_id, c) for m, c in zip(members, crons, strict=True)})
        return [time.perf_counter() - start]
    latencies = []
    for member, cron in zip(members, crons, strict=True):
        response, seconds, error = call(
            inst, "PUT", f"/api/schedules/{member.plan_id}", json={"planItems": [cron_item(cron)]}
        )
        latencies.append(seconds)
        if error:
            log(f"{inst.label}: PUT plan {member.plan_id} failed: {error}")
    return latencies


def burst(
    inst: Instance, members: Sequence[Member], args: argparse.Namespace, *, native: bool, per_plan: float
) -> Fires:
    """`--burst` of the fleet due at the same minute boundary T; every run's lateness."""
    result = Fires()
    chosen = list(members[-min(args.burst, len(members)):])
    b = len(chosen)
    lead = args.burst_lead if args.burst_lead else max(20.0, 10 + 1.5 * b * per_plan)
    fire = next_minute(utcnow() + timedelta(seconds=lead))
    result.fire, result.expected = fire, b
    cron = (f"{fire.minute} {fire.hour} {fire.day} {fire.month} *" if native
            else f"0 {fire.minute} {fire.hour} {fire.day} {fire.month} ? {fire.year}")
    log(
        f"{inst.label}: burst: {b} DAGs due at {fire:%H:%M:%S} UTC (in {(fire - utcnow()).total_seconds():.0f} s), "
        f"cron {cron!r}"
    )
    set_crons(inst, chosen, [cron] * b, native=native)
    margin = (fire - utcnow()).total_seconds()
    _, result.ready_before = inst.wait_ready(
        [m.dag_id for m in chosen],
        timeout=max(1.0, margin - 1),
        what="burst DAGs",
        at=fire,
        until=fire - timedelta(seconds=1),
    )
    if result.ready_before < b:
        result.note = f"only {result.ready_before} of {b} DAGs were schedulable for T before T (raise --burst-lead)"
    log(
        f"{inst.label}: burst: {result.ready_before} of {b} ready {max(0.0, (fire - utcnow()).total_seconds()):.0f} s "
        "before T"
    )
    while utcnow() < fire:
        time.sleep(0.2)
    until = time.monotonic() + args.burst_timeout
    collect(
        inst,
        [m.dag_id for m in chosen],
        since=fire - timedelta(seconds=1),
        before=fire + timedelta(seconds=1),
        expected=b,
        until=until,
        result=result,
        fires=lambda r: r["run_after"] == fire,
    )
    return result


# -- lists -----------------------------------------------------------------------------------------------


def insert_runs(inst: Instance, members: Sequence[Member], total: int, *, days: float = 90, seed: int = 0) -> int:
    """`total` finished scheduled runs for the plan DAGs, straight into `dag_run` (90% success)."""
    if not members or total <= 0:
        return 0
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    with inst.engine.connect() as conn:
        template = conn.scalar(sa.text("SELECT MAX(id) FROM log_template"))
        versions: dict[str, tuple[int, Any]] = {}
        for row in conn.execute(sa.select(VERSION_T.c.dag_id, VERSION_T.c.version_number, VERSION_T.c.id)):
            if row.dag_id not in versions or row.version_number > versions[row.dag_id][0]:
                versions[row.dag_id] = (row.version_number, row.id)
    per_dag = [total // len(members) + (1 if i < total % len(members) else 0) for i in range(len(members))]
    rows: list[dict[str, Any]] = []
    inserted = 0

    def flush() -> None:
        nonlocal inserted
        if rows:
            with inst.engine.begin() as conn:
                conn.execute(RUN_T.insert(), rows)
            inserted += len(rows)
            rows.clear()

    for member, count in zip(members, per_dag, strict=True):
        step = timedelta(seconds=days * 86400 / max(1, count))
        offset = timedelta(seconds=rng.randrange(0, 3600))
        version = versions.get(member.dag_id, (0, None))[1]
        item = member.item_id
        for j in range(count):
            fire = now - offset - step * (j + 1)
            failed = rng.random() < 0.1
            started = fire + timedelta(seconds=rng.uniform(0.5, 3))
            rows.append({
                "dag_id": member.dag_id,
                "run_id": f"scheduled__{fire.isoformat()}" + (f"__items-{item}" if item else ""),
                "run_type": "scheduled", "state": "failed" if failed else "success",
                "queued_at": fire, "logical_date": fire, "start_date": started,
                "end_date": started + timedelta(seconds=rng.uniform(1, 30)), "run_after": fire,
                "data_interval_start": fire, "data_interval_end": fire, "created_at": fire, "updated_at": fire,
                "triggered_by": "TIMETABLE", "conf": {}, "clear_number": 0, "log_template_id": template,
                "span_status": "not_started", "created_dag_version_id": None if version is None else str(version),
            })
            if len(rows) >= 5000:
                flush()
    flush()
    return inserted


@dataclass
class ListResult:
    name: str
    path: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hits: Any = None


# (row name, taskcenter path, Airflow equivalent or None)
LIST_CALLS = (
    ("plans, page of 10", "/api/schedules?offset=0&limit=10", "/api/v2/dags?offset=0&limit=10"),
    ("plans, page of 100", "/api/schedules?offset=0&limit=100", "/api/v2/dags?offset=0&limit=100"),
    (
        "plans, deep page (offset N-100)",
        "/api/schedules?offset={deep}&limit=100",
        "/api/v2/dags?offset={deep}&limit=100",
    ),
    (
        "plans, job status FAILED",
        "/api/schedules?jobStatusList=FAILED&limit=10",
        "/api/v2/dags?last_dag_run_state=failed&limit=10",
    ),
    (
        "plans, search q",
        "/api/schedules?q=notebook%2012&limit=10",
        "/api/v2/dags?dag_display_name_pattern=notebook%2012&limit=10",
    ),
    ("runs, page of 10", "/api/contexts?offset=0&limit=10", "/api/v2/dags/~/dagRuns?offset=0&limit=10&order_by=-id"),
    ("runs, page of 100", "/api/contexts?offset=0&limit=100", "/api/v2/dags/~/dagRuns?offset=0&limit=100&order_by=-id"),
    (
        "runs, job status FAILED",
        "/api/contexts?jobStatus=FAILED&limit=10",
        "/api/v2/dags/~/dagRuns?state=failed&limit=10&order_by=-id",
    ),
    (
        "runs, search q",
        "/api/contexts?q=notebook%2012&limit=10",
        "/api/v2/dags/~/dagRuns?dag_id_pattern=taskcenter_plan_12&limit=10&order_by=-id",
    ),
    ("plan creators (`/api/schedules/users`)", "/api/schedules/users", None),
    ("run creators (`/api/contexts/users`)", "/api/contexts/users", None),
)


def measure_list(inst: Instance, name: str, path: str, *, requests_: int, budget: float) -> ListResult:
    result = ListResult(name=name, path=path)
    start = time.monotonic()
    for i in range(requests_):
        if i >= 5 and time.monotonic() - start > budget:
            break
        began = time.perf_counter()
        try:
            response = inst.api("GET", path)
        except requests.RequestException as exc:
            result.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            result.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
            continue
        body = response.json()
        if path.startswith("/api/v2"):
            result.hits = body.get("total_entries")
        else:
            if body.get("code") != 0:
                result.errors.append(f"code {body.get('code')}: {body.get('msg')}")
                continue
            result.hits = body.get("totalHits", len(body.get("data") or []))
        result.latencies.append(elapsed)
    return result


@dataclass
class Lists:
    inserted: int = 0
    visible: Any = None
    rows: list[tuple[str, ListResult, ListResult | None]] = field(default_factory=list)
    insert_seconds: float = 0.0


def lists(inst: Instance, members: Sequence[Member], args: argparse.Namespace) -> Lists:
    result = Lists()
    start = time.monotonic()
    log(f"{inst.label}: lists: inserting {args.runs:,} runs by SQL")
    result.inserted = insert_runs(inst, members, args.runs)
    result.insert_seconds = time.monotonic() - start
    response = inst.api("GET", "/api/contexts?limit=1")
    result.visible = response.json().get("totalHits") if response.status_code == 200 else f"HTTP {response.status_code}"
    log(
        f"{inst.label}: {result.inserted:,} runs inserted in {result.insert_seconds:.0f} s; /api/contexts totalHits "
        f"{result.visible}"
    )
    deep = max(0, len(members) - 100)
    for name, ours, theirs in LIST_CALLS:
        mine = measure_list(inst, name, ours.format(deep=deep), requests_=args.list_requests, budget=args.list_budget)
        other = (
            measure_list(inst, name, theirs.format(deep=deep), requests_=args.list_requests, budget=args.list_budget)
            if theirs
            else None
        )
        p = Stat.of(mine.latencies)
        log(f"{inst.label}: {name}: p50 {fmt_ms(p.p50)} p95 {fmt_ms(p.p95)} ({p.n} calls, {len(mine.errors)} errors)"
            + ("" if other is None else f"; Airflow p50 {fmt_ms(Stat.of(other.latencies).p50)}"))
        result.rows.append((name, mine, other))
    return result


# -- log errors ------------------------------------------------------------------------------------------


def log_errors(inst: Instance) -> dict[str, tuple[int, list[str]]]:
    """Per component log: lines that report an error, and a few distinct ones."""
    found: dict[str, tuple[int, list[str]]] = {}
    for path in sorted(inst.tc.stack.log_dir.glob("*.log")):
        count, distinct = 0, []
        with contextlib.suppress(OSError), path.open(errors="replace") as lines:
            for line in lines:
                if any(w in line for w in (" ERROR ", "[error", "ERROR -", "Traceback", "CRITICAL", "FATAL", "PANIC")):
                    count += 1
                    text = line.strip()[:240]
                    if len(distinct) < 5 and not any(text[40:120] in d for d in distinct):
                        distinct.append(text)
        if count:
            found[path.name] = (count, distinct)
    return found


# -- one side: start, run the phases, stop ------------------------------------------------------------


@dataclass
class Side:
    label: str
    idle: list[Idle] = field(default_factory=list)
    create: Create | None = None
    changes: Changes | None = None
    lists: Lists | None = None
    lateness: Fires | None = None
    burst: Fires | None = None
    times: dict[str, float] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)
    errors: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Cleanup:
    """Everything started: instances to stop, engines to dispose, homes to delete."""

    def __init__(self, keep: bool) -> None:
        self.instances: list[Instance] = []
        self.homes: list[Path] = []
        self.startup_failures: list[str] = []
        self.keep = keep

    def home(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix="taskcenter-bench-"))
        self.homes.append(path)
        return path

    def stop(self, inst: Instance) -> None:
        if inst in self.instances:
            self.instances.remove(inst)
        with contextlib.suppress(Exception):
            inst.engine.dispose()
        try:
            inst.tc.stop()
        except Exception as exc:  # noqa: BLE001 - keep stopping the rest
            log(f"stopping {inst.label}: {exc}")

    def close(self) -> None:
        for inst in list(reversed(self.instances)):
            log(f"stopping {inst.label}")
            self.stop(inst)
        _stop_own_children()
        for path in self.homes:
            if self.keep:
                log(f"kept {path}")
            else:
                shutil.rmtree(path, ignore_errors=True)
        self.homes.clear()


def _stop_own_children(timeout: float = 20) -> None:
    """Process groups this process started and that are still alive (e.g. after an interrupted start)."""
    children = psutil.Process().children()
    if not children:
        return
    log(f"ending {len(children)} leftover child process group(s): {[c.pid for c in children]}")
    for child in children:
        with contextlib.suppress(OSError):
            if os.getpgid(child.pid) == child.pid:
                os.killpg(child.pid, signal.SIGTERM)
            else:
                child.terminate()
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL) if os.getpgid(child.pid) == child.pid else child.kill()


def start(cleanup: Cleanup, label: str, args: argparse.Namespace, extra: dict[str, dict[str, str]]) -> Instance:
    began = time.monotonic()
    for attempt in (1, 2):
        home = cleanup.home()
        log(f"{label}: starting ({args.backend}) in {home}")
        try:
            tc = start_taskcenter(backend=args.backend, home=home / "home", extra=extra)
            break
        except StartupError as exc:
            # Reported with the results: a product that does not start is a finding, not noise.
            cleanup.startup_failures.append(f"{label}: {str(exc).splitlines()[0][:300]}")
            log(
                f"{label}: start-up failed ({str(exc).splitlines()[0][:300]})"
                + ("; trying once more" if attempt == 1 else "")
            )
            if attempt == 2:
                raise
    inst = Instance(
        label=label, tc=tc, engine=sa.create_engine(tc.settings.sql_alchemy_conn, pool_pre_ping=True), scratch=home
    )
    cleanup.instances.append(inst)
    log(
        f"{label}: started in {time.monotonic() - began:.0f} s (components: "
        f"{', '.join(c.name for c in tc.stack.all_components)})"
    )
    return inst


def timed(side: Side, name: str) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def manager() -> Any:
        began = time.monotonic()
        try:
            yield
        finally:
            side.times[name] = side.times.get(name, 0.0) + time.monotonic() - began
    return manager()


def airflow_default(section: str, option: str) -> str | None:
    """Airflow's default of an option, from its config template (importing airflow.configuration
    would configure Airflow for this process and write an airflow.cfg)."""
    import importlib.util

    import yaml

    spec = importlib.util.find_spec("airflow")
    assert spec is not None and spec.origin is not None
    template = Path(spec.origin).parent / "config_templates" / "config.yml"
    global _DEFAULTS
    if _DEFAULTS is None:
        _DEFAULTS = yaml.safe_load(template.read_text())
    default = ((_DEFAULTS.get(section) or {}).get("options") or {}).get(option, {}).get("default")
    return None if default is None else str(default)


_DEFAULTS: dict[str, Any] | None = None


def native_overrides(product_config: Path) -> dict[str, dict[str, str]]:
    """Airflow's defaults for every [scheduler] and [dag_processor] option the product sets."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(product_config)
    overrides: dict[str, dict[str, str]] = {}
    for section in ("scheduler", "dag_processor"):
        if not parser.has_section(section):
            continue
        for option in parser.options(section):
            if (section, option) in KEEP_NATIVE:
                continue
            default = airflow_default(section, option)
            if default is not None and str(default) != parser.get(section, option):
                overrides.setdefault(section, {})[option] = str(default)
    # A refresh interval the product gives its plans bundle goes back to Airflow's default too.
    if parser.has_option("dag_processor", "dag_bundle_config_list"):
        bundles = json.loads(parser.get("dag_processor", "dag_bundle_config_list"))
        changed = False
        for bundle in bundles:
            if bundle.get("name") == "dags-folder" and "refresh_interval" in bundle.get("kwargs", {}):
                bundle["kwargs"].pop("refresh_interval")
                changed = True
        if changed:
            overrides.setdefault("dag_processor", {})["dag_bundle_config_list"] = json.dumps(bundles)
    return overrides


def guarded(side: Side, name: str) -> contextlib.AbstractContextManager[None]:
    """Times a phase; a phase that fails is reported (with the traceback on stderr) and the run goes on."""
    @contextlib.contextmanager
    def manager() -> Any:
        began = time.monotonic()
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - the other phases still measure something
            traceback.print_exc()
            side.notes.append(f"phase {name} failed: {type(exc).__name__}: {str(exc)[:300]}")
            log(f"{side.label}: phase {name} failed: {exc}")
        finally:
            side.times[name] = side.times.get(name, 0.0) + time.monotonic() - began
    return manager()


def run_phases(inst: Instance, side: Side, args: argparse.Namespace, *, native: bool, count: int,
               entities: Sequence[tuple[str, str]] = (), idle: bool = True) -> None:
    """One side's phases on a started instance: idle at 0, create N, memory, idle at N, changes,
    lists (taskcenter), lateness, burst."""
    phases = args.phases
    if idle and "idle" in phases:
        with guarded(side, "idle"):
            side.idle.append(idle_window(inst, plans=0, seconds=args.idle_seconds, settle=args.settle))
    side.create = Create()
    with timed(side, "create"):
        if native:
            members = create_native(inst, count, args, side.create, small=idle and "create" in phases)
        else:
            members = create_plans(inst, entities[:count], args, side.create)
    per_plan = (side.create.all_ready or 0.0) / max(1, side.create.ready)  # this side's pace of changes + parsing
    if idle and ("create" in phases or "idle" in phases):
        with guarded(side, "idle" if "idle" in phases else "create"):
            inst.settle(args.settle)
            side.create.large = memory(inst, len(members))
    if idle and "idle" in phases:
        with guarded(side, "idle"):
            side.idle.append(idle_window(inst, plans=len(members), seconds=args.idle_seconds, settle=5))
    if "changes" in phases:
        with guarded(side, "changes"):
            side.changes = (
                changes_native(inst, args.samples)
                if native
                else changes_taskcenter(inst, entities[count:], args.samples)
            )
            log(f"{side.label}: changes done ({len(side.changes.errors)} error(s))")
    if "lists" in phases and not native:
        with guarded(side, "lists"):
            side.lists = lists(inst, members, args)
    if "lateness" in phases:
        with guarded(side, "lateness"):
            inst.settle(5)
            side.lateness = lateness(inst, members, args, native=native)
            report_fires(side.label, "lateness", side.lateness)
    if "burst" in phases:
        with guarded(side, "burst"):
            inst.settle(5)
            side.burst = burst(inst, members, args, native=native, per_plan=per_plan + 0.1)
            report_fires(side.label, "burst", side.burst)
    side.restarts = list(inst.tc.restarts)
    side.errors = log_errors(inst)


def run_taskcenter(
    args: argparse.Namespace, cleanup: Cleanup, side: Side, native_side: Side | None
) -> dict[str, dict[str, str]]:
    """The product's instance and phases (and, with `--native same`, the native ones on it too);
    returns the options the native instance resets to Airflow's defaults."""
    workdir = cleanup.home()
    catalog_file = workdir / "scale-catalog.json"
    extra_entities = args.samples + 5
    catalog_file.write_text(json.dumps(catalog(args.plans + extra_entities)))
    entities = entity_list(args.plans + extra_entities)
    with timed(side, "start"):
        inst = start(cleanup, side.label, args, {"taskcenter": {"catalog_path": str(catalog_file)}})
    overrides = native_overrides(inst.tc.settings.config_file)
    if options := component_options(inst):
        side.notes.append("per-component options of the product: " + "; ".join(options))
    time.sleep(5)  # the first parsing loops
    run_phases(inst, side, args, native=False, count=args.plans, entities=entities)
    if native_side is not None:
        native_side.notes.append("ran on the product's instance (--native same), with the product's scheduler options")
        run_phases(inst, native_side, args, native=True, count=args.native_plans, idle=False)
        native_side.errors = {}  # the same logs as the product's
    log(f"{side.label}: stopping")
    cleanup.stop(inst)
    return overrides


@contextlib.contextmanager
def airflow_component_defaults() -> Any:
    """While the native instance starts: options the launcher gives the scheduler or the dags
    folder's dag-processor in their environment ([scheduler], [dag_processor]) are left out, as the
    file's are reset. Yields what was left out."""
    from taskcenter.launcher import components

    original = getattr(components, "component_environ", None)
    dropped: list[str] = []
    if original is None:
        yield dropped
        return

    def without_tuning(name: str) -> dict[str, str]:
        env = dict(original(name))
        if name in ("scheduler", "dag-processor"):
            for key in [k for k in env if k.startswith(("AIRFLOW__SCHEDULER__", "AIRFLOW__DAG_PROCESSOR__"))]:
                dropped.append(f"{name}: {key}={env.pop(key)}")
        return env

    components.component_environ = without_tuning
    try:
        yield dropped
    finally:
        components.component_environ = original


def component_options(inst: Instance) -> list[str]:
    """Options the launcher gives single components in their environment (not in airflow.cfg)."""
    return [
        f"{c.name}: {k}={v}"
        for c in inst.tc.stack.all_components
        for k, v in sorted((getattr(c, "environ", None) or {}).items())
    ]


def run_native(args: argparse.Namespace, cleanup: Cleanup, side: Side, overrides: dict[str, dict[str, str]]) -> None:
    with timed(side, "start"), airflow_component_defaults() as dropped:
        inst = start(cleanup, side.label, args, overrides)
    if dropped:
        side.notes.append("started without the launcher's per-component options " + "; ".join(sorted(set(dropped))))
    time.sleep(5)
    run_phases(inst, side, args, native=True, count=args.native_plans)
    log(f"{side.label}: stopping")
    cleanup.stop(inst)


def report_fires(label: str, what: str, fires: Fires) -> None:
    created, started = Stat.of(fires.created), Stat.of(fires.started)
    log(
        f"{label}: {what}: {created.n}/{fires.expected} created (p50 {fmt_s(created.p50)}, p95 {fmt_s(created.p95)}, "
        f"max {fmt_s(created.max)}), "
        f"{started.n} started (p50 {fmt_s(started.p50)}, p95 {fmt_s(started.p95)}, max {fmt_s(started.max)})"
    )


# -- the report ------------------------------------------------------------------------------------------


def report(args: argparse.Namespace, ours: Side, native: Side | None, overrides: dict[str, dict[str, str]]) -> str:
    sides = [s for s in (ours, native) if s is not None]
    out = _report_header(args, native, overrides)
    out += _report_idle(args, ours, sides)
    out += _report_changes(sides, native)
    for number, what, title in (
        (3, "burst", "Midnight burst"),
        (4, "lateness", "Fire lateness, 1% of the plans due every minute"),
    ):
        out += _report_fired(args, sides, native, number=number, what=what, title=title)
    out += _report_lists(args, ours)
    out += _report_creation(sides)
    out += _report_phases(sides)
    return "\n".join(out)


def _report_header(
    args: argparse.Namespace, native: Side | None, overrides: dict[str, dict[str, str]]
) -> list[str]:
    """The title, and what the native side is."""
    out: list[str] = []
    where = f"{args.backend}, LocalExecutor, {os.cpu_count()} CPUs"
    out.append(f"## Scale: {args.plans:,} plans ({where})\n")
    if native is not None and overrides and args.native == "separate":
        text = ", ".join(
            f"[{s}] {o}={v if len(v) < 40 else '(Airflow default)'}"
            for s, opts in overrides.items()
            for o, v in opts.items()
        )
        out.append(f"Native Airflow: a second instance with Airflow's defaults for {text}.\n")
    elif native is not None and args.native == "separate":
        out.append(
            "Native Airflow: a second instance; the product sets no [scheduler]/[dag_processor] option that differs "
            "from Airflow's defaults.\n"
        )
    elif native is not None:
        out.append(
            "Native Airflow: on the product's own instance (--native same), with the product's scheduler options.\n"
        )
    return out


def _report_idle(args: argparse.Namespace, ours: Side, sides: list[Side]) -> list[str]:
    """1. Idle cost."""
    out: list[str] = []
    idle_rows = []
    if ours.idle:
        names = sorted({n for s in sides for i in s.idle for n in i.cpu})
        header = ["component"] + [
            f"{s.label}, {i.plans:,} {'plans' if s is ours else 'DAGs'}" for s in sides for i in s.idle
        ]
        for name in names:
            idle_rows.append([name] + [f"{i.cpu.get(name, 0.0):.3f}" for s in sides for i in s.idle])
        idle_rows.append(
            ["**product total (cores)**"] + [f"**{sum(i.cpu.values()):.3f}**" for s in sides for i in s.idle]
        )
        idle_rows.append(["whole machine (cores busy)"] + [f"{i.machine:.2f}" for s in sides for i in s.idle])
        idle_rows.append(
            ["log bytes written in the window"]
            + [f"{sum(v[0] for v in i.logs.values()):,}" for s in sides for i in s.idle]
        )
        out.append(f"### 1. Idle cost (CPU cores over {args.idle_seconds:g} s, every component's process tree)\n")
        out.append(table(header, idle_rows))
        for s in sides:
            if len(s.idle) == 2:
                delta = sum(s.idle[1].cpu.values()) - sum(s.idle[0].cpu.values())
                verdict = " (target: within +0.1)" if s is ours else ""
                out.append(f"\n{s.label}: {s.idle[1].plans:,} vs 0 -> **{delta:+.3f} cores**{verdict}.")
            for i in s.idle:
                if i.restarted:
                    out.append(
                        f"\n{s.label}: component(s) restarted during the {i.plans} window: {', '.join(i.restarted)}"
                    )
        groups = sorted({g for s in sides for i in s.idle for g in i.logs})
        if groups:
            out.append("\nLog growth during the idle window (bytes; files that grew / new files):\n")
            rows = []
            for group in groups:
                cells = []
                for s in sides:
                    for i in s.idle:
                        grown, files, new = i.logs.get(group, (0, 0, 0))
                        cells.append(f"{grown:,} ({files}/{new})" if files else "0")
                rows.append([f"`{group}`"] + cells)
            out.append(table(["log"] + header[1:], rows))
        out.append("")
    return out


def _report_changes(sides: list[Side], native: Side | None) -> list[str]:
    """2. Change -> schedulable."""
    out: list[str] = []
    if any(s.changes for s in sides):
        out.append("### 2. Change -> schedulable (request sent -> `/api/v2/dags/<id>` shows it)\n")
        rows = []
        for kind in CHANGE_KINDS:
            row = [kind]
            for s in sides:
                if s.changes is None:
                    row += ["-", "-"]
                    continue
                total, answer = Stat.of(s.changes.total.get(kind, [])), Stat.of(s.changes.answer.get(kind, []))
                row += [f"{fmt_s(total.p50)} / {fmt_s(total.p95)} (n={total.n})", fmt_ms(answer.p50)]
            rows.append(row)
        header = ["change"]
        for s in sides:
            header += [f"{s.label} p50 / p95", f"{s.label} answer p50"]
        out.append(table(header, rows))
        if native is not None:
            out.append(
                "\nAirflow's paths: create = new DAG file + parse request; update = rewritten file + parse request; "
                "disable/enable = `PATCH /api/v2/dags/<id>` is_paused; delete = file removed + `DELETE "
                "/api/v2/dags/<id>`. Target p95 <= 1 s."
            )
        for s in sides:
            if s.changes and s.changes.errors:
                out.append(f"\n{s.label}: {len(s.changes.errors)} change(s) failed: " + "; ".join(s.changes.errors[:5]))
        out.append("")
    return out


def _report_fired(
    args: argparse.Namespace, sides: list[Side], native: Side | None, *, number: int, what: str, title: str
) -> list[str]:
    """3. The midnight burst or 4. fire lateness."""
    out: list[str] = []
    fired = [(s, getattr(s, what)) for s in sides if getattr(s, what) is not None]
    if not fired:
        return out
    first = fired[0][1]
    if what == "burst":
        out.append(
            f"### {number}. {title}: {first.expected:,} runs due at the same second ({first.fire:%H:%M:%S} UTC)\n"
        )
    else:
        out.append(f"### {number}. {title} ({args.lateness_minutes} minutes from {first.fire:%H:%M} UTC)\n")
    rows = []
    per_minute = 1 if what == "burst" else max(1, args.lateness_minutes)
    for s, fires in fired:
        created, started = Stat.of(fires.created), Stat.of(fires.started)
        within = sum(1 for c in fires.created if c <= 5)
        rows.append(
            [
                s.label,
                f"{fires.ready_before}/{fires.expected // per_minute}",
                f"{created.n}/{fires.expected}",
                f"{within}/{fires.expected}",
                f"{fmt_s(created.p50)} / {fmt_s(created.p95)} / {fmt_s(created.max)}",
                f"{started.n}/{fires.expected}",
                f"{fmt_s(started.p50)} / {fmt_s(started.p95)} / {fmt_s(started.max)}",
            ]
        )
    out.append(
        table(
            [
                "",
                "DAGs ready in time",
                "runs created",
                "created within 5 s",
                "created lateness p50 / p95 / max",
                "runs started",
                "started lateness p50 / p95 / max (= last)",
            ],
            rows,
        )
    )
    out.append(
        "\nCreated lateness: the run's `queued_at` - its fire time; started: its task's `start_date` - fire time."
        + (" Target: every run created within 5 s." if what == "burst" else " Target: p95 <= 2 s.")
    )
    if what == "lateness" and native is not None:
        out.append(
            "Airflow's cron has no seconds field: its N/100 DAGs (`* * * * *`) all fire at second 0 of each "
            "minute; "
            "the plans' fire times are spread over the minute."
        )
    for s, fires in fired:
        if fires.note:
            out.append(f"\n{s.label}: {fires.note}")
        if fires.unexpected:
            out.append(f"\n{s.label}: {fires.unexpected} run(s) in the window at an unexpected time (not counted)")
    out.append("")
    return out


def _report_lists(args: argparse.Namespace, ours: Side) -> list[str]:
    """5. Lists."""
    out: list[str] = []
    if ours.lists is not None:
        result = ours.lists
        out.append(
            f"### 5. Lists at {args.plans:,} plans and {result.inserted:,} runs (/api/contexts totalHits "
            f"{result.visible}), "
            f"{args.list_requests} calls each (p50 / p95)\n"
        )
        rows = []
        for name, mine, other in result.rows:
            p, q = Stat.of(mine.latencies), Stat.of(other.latencies) if other else None
            rows.append(
                [
                    name,
                    f"`{mine.path}`",
                    f"{fmt_ms(p.p50)} / {fmt_ms(p.p95)}" + (f" ({len(mine.errors)} errors)" if mine.errors else ""),
                    f"`{other.path}`" if other else "-",
                    (f"{fmt_ms(q.p50)} / {fmt_ms(q.p95)}" + (f" ({len(other.errors)} errors)" if other.errors else ""))
                    if q
                    else "-",
                    f"{p.p50 / q.p50:.2f}" if q and p.p50 and q.p50 else "-",
                ]
            )
        out.append(
            table(
                ["list", "taskcenter", "p50 / p95", "Airflow (same instance, same data)", "p50 / p95", "ratio p50"],
                rows,
            )
        )
        for _name, mine, other in result.rows:
            for r in (mine, other):
                if r and r.errors:
                    out.append(f"\n{r.path}: {len(r.errors)} error(s), e.g. {r.errors[0]}")
        out.append("")
    return out


def _report_creation(sides: list[Side]) -> list[str]:
    """6. Creation and memory."""
    out: list[str] = []
    created = [(s, s.create) for s in sides if s.create is not None]
    if created:
        out.append("### 6. Creation and memory\n")
        rows = []
        for s, c in created:
            lat = Stat.of(c.latencies)
            rate = (
                f"{c.rate:,.1f} plans/s (POST p50 {fmt_ms(lat.p50)}, p95 {fmt_ms(lat.p95)})"
                if c.latencies
                else f"files written in {fmt_s(c.write_seconds)}"
            )
            small = c.small and sum(c.small.rss.values())
            large = c.large and sum(c.large.rss.values())
            growth = f"{(large / small - 1) * 100:+.0f}%" if small and large else "-"
            small_pss = c.small and sum(c.small.pss.values())
            large_pss = c.large and sum(c.large.pss.values())
            rows.append([
                s.label, f"{c.members:,}" + (f" ({len(c.failed)} failed)" if c.failed else ""), rate,
                f"{fmt_s(c.all_ready, 0)} ({c.ready:,} ready)", f"{fmt_mb(small)} -> {fmt_mb(large)} ({growth})",
                f"{fmt_mb(small_pss)} -> {fmt_mb(large_pss)}",
            ])
        out.append(
            table(
                [
                    "",
                    "created",
                    "one client",
                    "first request -> all schedulable",
                    f"RSS {SMALL} -> N (target +25%)",
                    "PSS",
                ],
                rows,
            )
        )
        comps = sorted({n for _, c in created for m in (c.small, c.large) if m for n in m.rss})
        if comps and any(c.large for _, c in created):
            rows = []
            for name in comps:
                row = [name]
                for _, c in created:
                    row += [
                        f"{fmt_mb(c.small.rss.get(name)) if c.small else '-'} -> "
                        f"{fmt_mb(c.large.rss.get(name)) if c.large else '-'}"
                        + (f" ({c.large.procs.get(name)} proc)" if c.large else "")
                    ]
                rows.append(row)
            out.append("\nRSS per component (process tree), at 10 and at N:\n")
            out.append(table(["component"] + [s.label for s, _ in created], rows))
        out.append("")
    return out


def _report_phases(sides: list[Side]) -> list[str]:
    """Phase times, restarts, error lines and notes."""
    out: list[str] = []
    out.append("### Phase times\n")
    names = [
        n
        for n in ("start", "idle", "create", "changes", "lists", "lateness", "burst")
        if any(n in s.times for s in sides)
    ]
    out.append(
        table(
            ["phase"] + [s.label for s in sides],
            [[n] + [fmt_s(s.times.get(n), 0) if n in s.times else "-" for s in sides] for n in names]
            + [["**total**"] + [fmt_s(sum(s.times.values()), 0) for s in sides]],
        )
    )
    out.append("")
    for s in sides:
        if s.restarts:
            out.append(f"{s.label}: component restarts: " + "; ".join(s.restarts))
        for name, (count, lines) in s.errors.items():
            out.append(f"{s.label}: {name}: {count} error line(s), e.g.\n" + "\n".join(f"    {line}" for line in lines))
        for note in s.notes:
            out.append(f"{s.label}: {note}")
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=1000, help="N (the issue: 10,000)")
    parser.add_argument("--native-plans", type=int, help="N of the native side (default: --plans)")
    parser.add_argument("--burst", type=int, help="plans due at the same second (default N/10: 1,000 at 10,000)")
    parser.add_argument("--runs", type=int, help="runs inserted for the lists (default 10 x N: 100,000 at 10,000)")
    parser.add_argument(
        "--backend",
        choices=("postgres", "sqlite"),
        default="postgres",
        help="metadata DB (default: the embedded PostgreSQL)",
    )
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)}")
    parser.add_argument("--native", choices=("separate", "same", "none"), default="separate",
                        help="native Airflow on a second instance (default), on the product's, or not at all")
    parser.add_argument("--idle-seconds", type=float, default=60, help="each idle window")
    parser.add_argument(
        "--settle", type=float, default=30, help="quiet seconds before an idle window or the memory at N"
    )
    parser.add_argument("--samples", type=int, default=5, help="samples of each change")
    parser.add_argument("--lateness-minutes", type=int, default=3)
    parser.add_argument(
        "--lateness-grace", type=float, default=60, help="seconds after the window for its last runs to start"
    )
    parser.add_argument(
        "--burst-lead",
        type=float,
        default=0,
        help="seconds from the burst's updates to T (default: from the creation rate)",
    )
    parser.add_argument(
        "--burst-timeout", type=float, help="seconds after T to wait for every run to start (default 300 + N_burst/2)"
    )
    parser.add_argument("--list-requests", type=int, default=50, help="calls of each list")
    parser.add_argument("--list-budget", type=float, default=60, help="seconds per list (at least 5 calls)")
    parser.add_argument(
        "--parse-timeout", type=float, help="seconds to wait for N DAGs to be schedulable (default 300 + N/5)"
    )
    parser.add_argument("--keep-homes", action="store_true", help="keep the temporary homes (for their logs)")
    args = parser.parse_args()
    args.phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) {sorted(unknown)}; choose from {', '.join(PHASES)}")
    if args.plans < 1:
        parser.error("--plans must be at least 1")
    args.native_plans = args.native_plans if args.native_plans is not None else args.plans
    args.burst = min(args.plans, args.burst if args.burst is not None else max(1, args.plans // 10))
    args.runs = args.runs if args.runs is not None else 10 * args.plans
    args.burst_timeout = args.burst_timeout if args.burst_timeout is not None else 300 + args.burst / 2
    args.parse_timeout = args.parse_timeout if args.parse_timeout is not None else 300 + args.plans / 5
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (`cmd &`)
    cleanup = Cleanup(keep=args.keep_homes)
    ours = Side(label="taskcenter")
    native_wanted = args.native != "none" and bool(
        {"idle", "create", "changes", "lateness", "burst"} & set(args.phases)
    )
    native = Side(label="Airflow") if native_wanted else None
    overrides: dict[str, dict[str, str]] = {}
    code = 0
    try:
        overrides = run_taskcenter(args, cleanup, ours, native if args.native == "same" else None)
        if native is not None and args.native == "separate":
            log(f"native: Airflow's defaults for {overrides or 'nothing (the product sets no scheduler option)'}")
            run_native(args, cleanup, native, overrides)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        code = 130
    except Exception:  # noqa: BLE001 - report what was measured, then clean up
        traceback.print_exc()
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cleanup.close()
    text = report(args, ours, native, overrides)
    if cleanup.startup_failures:
        text += "\n" + "\n".join(f"start-up failure: {f}" for f in cleanup.startup_failures)
    print(text, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
