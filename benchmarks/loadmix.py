"""A load generator for taskcenter's compat API and, for comparison, Airflow's own REST API.

N clients (threads) call one instance for T seconds, back to back (plus an optional think time),
each through one persistent `requests.Session` (keep-alive on, so a connection the server drops is
seen). The taskcenter mix (issue 10, item 1): upserts, updates, enable/disable, run-now (also with
`sync: true`), both cancels, plan and context lists with filters, single reads and `block=true` log
waits. Every client owns an entity (its plan); a share of the write calls (`shared_share`) goes to
one plan all clients share, on purpose: concurrent writes of one plan must answer 200 or 409, two
concurrent cancels must both succeed. The native mix calls the equivalent endpoints of `/api/v2` on
hand-written DAGs, one per client (and one shared).

Every call is recorded (`Call`: kind, status, latency, whether it waited for a run by request, its
outcome). Every acknowledged write is recorded too (`AckWrite`: the plan's state as the answer
reported it, when the call started and ended; `contexts`: run-now's `contextId` -> plan), so
`verify` can check afterwards that each is readable and that each plan's generated DAG file
matches the plan as the API reports it. `report` renders markdown tables.

Outcomes: `ok` (2xx), `conflict` (409 on a write of a plan several clients write: expected),
`client_error` (any other 4xx, a 409 where no other client writes the plan), `server_error`
(>= 500), `broken` (the connection failed: reset, closed without an answer, a cut body),
`timeout` (no answer within the client's timeout) and `error` (anything else, e.g. a 200 whose
body is not the success envelope).
"""

from __future__ import annotations

import ast
import http.client
import json
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from taskcenter.adapters.airflow.naming import dag_id_for, file_name_for
from taskcenter.domain.jobs import default_job_params
from taskcenter.domain.plans import EntityGroup

OK, CONFLICT, CLIENT_ERROR, SERVER_ERROR, BROKEN, TIMEOUT, ERROR = (
    "ok", "conflict", "client_error", "server_error", "broken", "timeout", "error",
)
OUTCOMES = (OK, CONFLICT, CLIENT_ERROR, SERVER_ERROR, BROKEN, TIMEOUT, ERROR)
# Writes that change what `PlanState` holds: one cut off without an answer leaves the plan in doubt.
STATE_WRITES = frozenset({"upsert", "update", "enable", "disable"})
# Relative weights of the operations; `toggle` is enable or disable, whichever changes the plan.
TASKCENTER_WEIGHTS: Mapping[str, int] = {
    "upsert": 8, "update": 8, "toggle": 8, "run_now": 5, "run_now_sync": 1, "cancel": 3, "cancel_entity": 3,
    "list_plans": 10, "list_contexts": 10, "get_plan": 12, "get_context": 10, "logs_block": 3,
}
# The same shares for the `/api/v2` equivalents (run-now -> trigger, enable/disable -> pause/unpause, ...).
NATIVE_WEIGHTS: Mapping[str, int] = {
    "trigger": 6, "toggle": 8, "list_dags": 10, "list_runs": 10, "get_dag": 12, "get_run": 10,
}


@dataclass(frozen=True, kw_only=True)
class Call:
    """One request as a client saw it."""

    kind: str
    status: int | None  # None: no HTTP answer
    latency: float  # seconds
    waited: bool  # it waited for a run by request (`sync: true`, `block=true`)
    outcome: str
    started: float  # time.monotonic()
    detail: str = ""  # the answer's (or the exception's) beginning, for anything but `ok`


@dataclass(frozen=True, kw_only=True)
class Entity:
    group: str
    key: str


@dataclass(frozen=True, kw_only=True)
class PlanState:
    """What the load checks of a plan; None: this write did not report (or change) that part."""

    crons: tuple[tuple[str, str, str], ...] | None = None  # sorted (cronDesc, timeZone, cronType)
    enabled: bool | None = None

    @classmethod
    def of(cls, plan: Mapping[str, Any]) -> PlanState:
        """The state of a plan as the API shows it (`GET`, or the answer of an upsert or update)."""
        crons = sorted(
            (i["cronDesc"], i["timeZone"], i["cronType"]) for i in plan["planItems"] if i["triggerType"] == "CRON_JOB"
        )
        return cls(crons=tuple(crons), enabled=bool(plan["enabled"]))


@dataclass(frozen=True, kw_only=True)
class AckWrite:
    """A write the server acknowledged (2xx), with the plan's state its answer reported."""

    plan_id: int
    kind: str
    state: PlanState
    started: float
    finished: float


@dataclass(frozen=True, kw_only=True)
class Target:
    """An instance to load: its base URL (no trailing slash) and a bearer token."""

    base_url: str
    token: str


@dataclass(frozen=True, kw_only=True)
class MixConfig:
    clients: int
    seconds: float
    shared_share: float = 0.1  # share of the writes that go to the plan (or DAG) all clients share
    think: float = 0.0  # seconds a client pauses between two calls
    seed: int = 0
    timeout: float = 120.0  # client-side timeout of a call that does not wait for a run (beyond the
    # api-server's own 30 s waits for a DB connection, so a stuck server's 5xx is seen as such)
    wait_timeout: float = 600.0  # ... and of one that does
    weights: Mapping[str, int] | None = None  # None: the mix's defaults


@dataclass(frozen=True, kw_only=True)
class MixResult:
    name: str
    clients: int
    start: float  # time.monotonic() when the clients started
    seconds: float  # how long they started new calls
    elapsed: float  # from the start to the end of the last call (waits still open at the end included)
    calls: tuple[Call, ...]
    writes: tuple[AckWrite, ...] = ()
    contexts: Mapping[int, int] = field(default_factory=dict)  # acknowledged run-now: contextId -> plan id
    in_doubt: frozenset[int] = frozenset()  # plans with a state write that got no answer
    plan_ids: tuple[int, ...] = ()  # the plans the mix wrote


# -- pure parts: outcomes, percentiles, checks, reports ------------------------------------------------


def classify(*, status: int | None, error: BaseException | None = None, conflict_ok: bool = False) -> str:
    """The outcome of one call: an exception (no usable answer) first, then the HTTP status."""
    if error is not None:
        if isinstance(error, requests.Timeout):
            return TIMEOUT
        if isinstance(
            error,
            (
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                http.client.RemoteDisconnected,
                ConnectionError,
            ),
        ):
            return BROKEN
        return ERROR
    if status is None:
        return ERROR
    if 200 <= status < 300:
        return OK
    if status >= 500:
        return SERVER_ERROR
    if status == 409 and conflict_ok:
        return CONFLICT
    return CLIENT_ERROR


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), interpolating linearly between ranks (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def check_acknowledged(
    writes: Iterable[AckWrite], final: Mapping[int, PlanState | None], *, in_doubt: Collection[int] = ()
) -> list[str]:
    """Problems with the acknowledged writes, given each plan's state read afterwards (None: not found).

    Per part of the state (crons, enabled), the final value must be the value reported by one of the
    writes that no other write of that part follows, i.e. that ended after the last of them had
    started: the last acknowledged write wins, and of writes that overlap it, any may win. A plan
    with a state write that got no answer (it may or may not have happened) only has to be readable.
    """
    by_plan: dict[int, list[AckWrite]] = {}
    for write in writes:
        by_plan.setdefault(write.plan_id, []).append(write)
    problems = []
    for plan_id, plan_writes in sorted(by_plan.items()):
        state = final.get(plan_id)
        if state is None:
            problems.append(f"plan {plan_id}: {len(plan_writes)} acknowledged write(s), but the plan is not readable")
            continue
        if plan_id in in_doubt:
            continue
        for part in ("crons", "enabled"):
            setting = [w for w in plan_writes if getattr(w.state, part) is not None]
            if not setting:
                continue
            last_start = max(w.started for w in setting)
            allowed = {getattr(w.state, part) for w in setting if w.finished >= last_start}
            if getattr(state, part) not in allowed:
                problems.append(
                    f"plan {plan_id}: {part} is {getattr(state, part)!r}, acknowledged last: "
                    f"{sorted(allowed, key=repr)}"
                )
    return problems


def check_contexts(acknowledged: Mapping[int, int], found: Mapping[int, int | None]) -> list[str]:
    """Every acknowledged run-now's context must be readable, of its plan (`found`: context -> planId)."""
    return [
        f"context {context_id} (plan {plan_id}): "
        + ("not readable" if found.get(context_id) is None else f"reads as plan {found[context_id]}")
        for context_id, plan_id in sorted(acknowledged.items())
        if found.get(context_id) != plan_id
    ]


def embedded_spec(source: str) -> dict[str, Any]:
    """The `PLAN = {...}` literal of a generated DAG file (dag_files.py); ValueError if there is none."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PLAN" for t in node.targets):
            return ast.literal_eval(node.value)
    raise ValueError("no PLAN = {...} assignment")


def check_dag_file(plan: Mapping[str, Any], source: str | None) -> list[str]:
    """Problems of one plan's generated DAG file (None: no file) against the plan as the API reports it."""
    plan_id = plan["id"]
    if source is None:
        return [f"plan {plan_id}: no DAG file"]
    try:
        spec = embedded_spec(source)
    except (SyntaxError, ValueError) as exc:
        return [f"plan {plan_id}: unreadable DAG file ({exc})"]
    detail = plan["execDetail"]
    items = plan["planItems"]
    expected = {
        "plan_id": plan_id,
        "dag_id": dag_id_for(plan_id),
        "entity_group": plan["entityGroup"],
        "entity_key": plan["entityKey"],
        "enabled": plan["enabled"],
        "job": {
            "job_class": detail["jobClass"],
            "job_params": detail["jobParams"],
            "retry_times": detail["retryTimes"],
        },
        "cron": sorted((i["id"], i["cronDesc"], i["timeZone"]) for i in items if i["triggerType"] == "CRON_JOB"),
        "upstreams": sorted(
            (r["entityGroup"], r["entityKey"])
            for i in items
            if i["triggerType"] == "DEPENDENCY"
            for r in i["triggerByJobs"]
        ),
    }
    actual = {
        **{name: spec.get(name) for name in ("plan_id", "dag_id", "entity_group", "entity_key", "enabled", "job")},
        "cron": sorted((c["item_id"], c["expression"], c["zone"]) for c in spec.get("cron", [])),
        "upstreams": sorted((u["entity_group"], u["entity_key"]) for u in spec.get("upstreams", [])),
    }
    return [
        f"plan {plan_id}: DAG file has {name} {actual[name]!r}, the API {expected[name]!r}"
        for name in expected
        if actual[name] != expected[name]
    ]


@dataclass(frozen=True, kw_only=True)
class KindStats:
    kind: str
    waited: bool
    counts: Mapping[str, int]  # outcome -> calls
    p50: float | None
    p95: float | None
    p99: float | None

    @property
    def calls(self) -> int:
        return sum(self.counts.values())


def _stats(kind: str, calls: Sequence[Call]) -> KindStats:
    latencies = [c.latency for c in calls]
    return KindStats(
        kind=kind,
        waited=any(c.waited for c in calls),
        counts={o: sum(c.outcome == o for c in calls) for o in OUTCOMES},
        p50=percentile(latencies, 50),
        p95=percentile(latencies, 95),
        p99=percentile(latencies, 99),
    )


def kind_stats(calls: Iterable[Call]) -> list[KindStats]:
    """Per call kind (a kind that waited by request apart from the same kind that did not), by name."""
    groups: dict[tuple[str, bool], list[Call]] = {}
    for call in calls:
        groups.setdefault((call.kind, call.waited), []).append(call)
    return [_stats(kind, group) for (kind, _), group in sorted(groups.items())]


@dataclass(frozen=True, kw_only=True)
class Summary:
    name: str
    clients: int
    calls: int
    throughput: float  # calls answered per second within the mix's seconds
    fast: KindStats  # the calls that did not wait for a run by request
    waiting: KindStats  # those that did

    @property
    def server_errors(self) -> int:
        return self.fast.counts[SERVER_ERROR] + self.waiting.counts[SERVER_ERROR]

    @property
    def broken(self) -> int:
        return self.fast.counts[BROKEN] + self.waiting.counts[BROKEN]

    @property
    def conflicts(self) -> int:
        return self.fast.counts[CONFLICT] + self.waiting.counts[CONFLICT]

    @property
    def other_errors(self) -> int:
        """Unexpected 4xx, client-side timeouts and malformed answers."""
        return sum(s.counts[o] for s in (self.fast, self.waiting) for o in (CLIENT_ERROR, TIMEOUT, ERROR))


def summarize(result: MixResult) -> Summary:
    answered = sum(c.started + c.latency <= result.start + result.seconds for c in result.calls)
    return Summary(
        name=result.name,
        clients=result.clients,
        calls=len(result.calls),
        throughput=answered / result.seconds if result.seconds > 0 else 0.0,
        fast=_stats("not waiting", [c for c in result.calls if not c.waited]),
        waiting=_stats("waiting", [c for c in result.calls if c.waited]),
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def report(result: MixResult, *, samples: int = 5) -> str:
    """A markdown section: one row per call kind, the summary, and a few answers of failed calls."""
    lines = [
        f"#### {result.name}: {result.clients} clients, {result.seconds:g} s (the last answer after "
        f"{result.elapsed:.1f} s)",
        "",
        "| call | waits | calls | ok | 409 | other 4xx | 5xx | broken | timeout | error | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary = summarize(result)
    rows = [(stats, stats.kind) for stats in kind_stats(result.calls)]
    rows += [(summary.fast, "**all not waiting**"), (summary.waiting, "**all waiting**")]
    for stats, name in rows:
        if stats.calls:
            counts = " | ".join(str(stats.counts[o]) for o in OUTCOMES)
            lines.append(
                f"| {name} | {'yes' if stats.waited else 'no'} | {stats.calls} | {counts} | {_ms(stats.p50)} | "
                f"{_ms(stats.p95)} | {_ms(stats.p99)} |"
            )
    lines += [
        "",
        f"throughput {summary.throughput:.1f} req/s; 5xx {summary.server_errors}, broken connections {summary.broken}, "
        f"other errors {summary.other_errors}, expected 409 {summary.conflicts}",
    ]
    failed: dict[str, int] = {}
    for call in result.calls:
        if call.outcome not in (OK, CONFLICT):
            text = f"{call.kind} -> {call.status or call.outcome}: {call.detail}"
            failed[text] = failed.get(text, 0) + 1
    lines += [f"- {count} x {text}" for text, count in sorted(failed.items(), key=lambda kv: -kv[1])[:samples]]
    return "\n".join(lines)


def summary_table(summaries: Iterable[Summary]) -> str:
    """One row per mix and N: throughput, p50/p95/p99 of the non-waiting calls, the waits apart, errors."""
    lines = [
        "| API | clients | req/s | p50 ms | p95 ms | p99 ms | waiting calls p50/p95/p99 s | 5xx | broken | other "
        "errors | 409 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        w = s.waiting
        waits = "-" if w.calls == 0 else "/".join(f"{v:.1f}" for v in (w.p50, w.p95, w.p99) if v is not None)
        lines.append(
            f"| {s.name} | {s.clients} | {s.throughput:.1f} | {_ms(s.fast.p50)} | {_ms(s.fast.p95)} | "
            f"{_ms(s.fast.p99)} | "
            f"{waits} | {s.server_errors} | {s.broken} | {s.other_errors} | {s.conflicts} |"
        )
    return "\n".join(lines)


# -- entities ------------------------------------------------------------------------------------------


def catalog_entities(path: Path) -> list[Entity]:
    """The entities of a catalog file (`{"entities": {group: {key: {...}}}}`), in file order."""
    groups = json.loads(path.read_text(encoding="utf-8"))["entities"]
    return [Entity(group=group, key=str(key)) for group, entities in groups.items() for key in entities]


def load_catalog(count: int, *, conn_id: str = "taskcenter_demo_source", first_key: int = 1001) -> dict[str, Any]:
    """A catalog of `count` PIPELINE entities, each one read-only SQL node on the demo source: cheap, real runs."""
    node = {
        "id": 1,
        "name": "count orders",
        "type": "sql",
        "conn": conn_id,
        "sql": "SELECT COUNT(*) AS orders FROM orders",
    }
    return {
        "description": "Entities of the load benchmark (benchmarks/loadmix.py): one plan per client.",
        "entities": {
            "PIPELINE": {
                str(key): {
                    "title": f"load pipeline {key}",
                    "createdBy": 1,
                    "path": f"load/pipeline{key}",
                    "definition": {"nodes": [node]},
                }
                for key in range(first_key, first_key + count)
            }
        },
    }


def assign(entities: Sequence[Entity], clients: int) -> tuple[Entity, list[Entity]]:
    """The shared entity (the first) and each client's own (the others, round robin when too few)."""
    if not entities:
        raise ValueError("no entities to load")
    own = list(entities[1:]) or [entities[0]]
    return entities[0], [own[i % len(own)] for i in range(clients)]


# -- running a mix -------------------------------------------------------------------------------------


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


class _Client:
    """One client thread's state: its session, its records, and what it knows of its plans and runs."""

    def __init__(self, *, target: Target, config: MixConfig, index: int, compat: bool) -> None:
        self.target, self.config, self.compat = target, config, compat
        self.rng = random.Random(config.seed * 100_003 + index)
        self.session = _session(target.token)
        self.calls: list[Call] = []

    def call(
        self, kind: str, method: str, path: str, *, waited: bool = False, conflict_ok: bool = False, **kwargs: Any
    ) -> tuple[Call, Any]:
        """Make one request and record it; the parsed body when the outcome is `ok`, else None."""
        started, clock = time.monotonic(), time.perf_counter()
        status: int | None = None
        body: Any = None
        error: BaseException | None = None
        detail = ""
        try:
            response = self.session.request(
                method,
                self.target.base_url + path,
                timeout=self.config.wait_timeout if waited else self.config.timeout,
                **kwargs,
            )
            status = response.status_code
            if 200 <= status < 300:
                body = response.json()
                if self.compat and (not isinstance(body, dict) or body.get("code") != 0):
                    raise ValueError(f"not the success envelope: {response.text[:200]}")
            else:
                detail = response.text[:200]
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome to count
            error, detail = exc, f"{type(exc).__name__}: {str(exc)[:200]}"
        outcome = classify(status=status, error=error, conflict_ok=conflict_ok)
        record = Call(
            kind=kind,
            status=status,
            latency=time.perf_counter() - clock,
            waited=waited,
            outcome=outcome,
            started=started,
            detail=detail,
        )
        self.calls.append(record)
        return record, body if outcome == OK else None

    def pick(self, weights: Mapping[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def step(self) -> None:
        """One operation of the mix, chosen by weight."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class _Plan:
    entity: Entity
    plan_id: int
    shared: bool  # other clients write it too


class _TaskCenterClient(_Client):
    def __init__(self, *, own: _Plan, common: _Plan, job_class: str | None, **kwargs: Any) -> None:
        super().__init__(compat=True, **kwargs)
        self.own, self.common, self.job_class = own, common, job_class
        self.writes: list[AckWrite] = []
        self.contexts: dict[int, int] = {}
        self.recent: list[int] = []  # context ids this client started, oldest first
        self.in_doubt: set[int] = set()
        self.enabled = {own.plan_id: True, common.plan_id: True}  # what this client last made them

    def step(self) -> None:
        kind = self.pick(self.config.weights or TASKCENTER_WEIGHTS)
        writes = kind in ("upsert", "update", "toggle", "run_now", "run_now_sync", "cancel", "cancel_entity")
        plan = self.common if writes and self.rng.random() < self.config.shared_share else self.own
        getattr(self, kind)(plan)

    def _write(self, kind: str, plan: _Plan, method: str, path: str, **kwargs: Any) -> tuple[Call, Any]:
        """A write of a plan: 409 is expected when other clients write it too, a lost answer puts it in doubt."""
        record, body = self.call(
            kind, method, path, conflict_ok=plan.shared and kind not in ("cancel", "cancel_entity"), **kwargs
        )
        if kind in STATE_WRITES and record.outcome in (BROKEN, TIMEOUT):
            self.in_doubt.add(plan.plan_id)
        return record, body

    def _ack(self, plan: _Plan, record: Call, state: PlanState) -> None:
        finished = record.started + record.latency
        self.writes.append(
            AckWrite(plan_id=plan.plan_id, kind=record.kind, state=state, started=record.started, finished=finished)
        )

    def _exec_detail(self, entity: Entity) -> dict[str, Any]:
        params = default_job_params(EntityGroup(entity.group), entity.key)
        return (
            {}
            if self.job_class is None
            else {"execDetail": {"jobClass": self.job_class, "jobParams": params, "retryTimes": 0}}
        )

    def _crons(self) -> list[dict[str, Any]]:
        """One or two CRON_JOB items that never fire during a run (January 1st, 2099)."""
        return [
            {"triggerType": "CRON_JOB", "cronDesc": f"0 {self.rng.randrange(60)} {self.rng.randrange(24)} 1 1 ? 2099",
             "cronType": "CRON", "timeZone": self.rng.choice(["Asia/Shanghai", "UTC"])}
            for _ in range(self.rng.choice([1, 2]))
        ]

    def upsert(self, plan: _Plan) -> None:
        body = {
            "entityGroup": plan.entity.group,
            "entityKey": plan.entity.key,
            "planItems": self._crons(),
            **self._exec_detail(plan.entity),
        }
        record, answer = self._write("upsert", plan, "POST", "/api/schedules", json=body)
        if answer:
            self._ack(plan, record, PlanState.of(answer["data"]))

    def update(self, plan: _Plan) -> None:
        record, answer = self._write(
            "update", plan, "PUT", f"/api/schedules/{plan.plan_id}", json={"planItems": self._crons()}
        )
        if answer:
            self._ack(plan, record, PlanState.of(answer["data"]))

    def toggle(self, plan: _Plan) -> None:
        enable = self.rng.random() < 0.5 if plan.shared else not self.enabled[plan.plan_id]
        kind = "enable" if enable else "disable"
        record, answer = self._write(kind, plan, "POST", f"/api/schedules/{plan.plan_id}/{kind}", json={})
        if answer:
            self.enabled[plan.plan_id] = enable
            self._ack(plan, record, PlanState(enabled=enable))

    def run_now(self, plan: _Plan, *, sync: bool = False) -> None:
        if not plan.shared and not self.enabled[plan.plan_id]:
            return self.toggle(plan)  # a client enables its disabled plan before running it (else 409/40901)
        body = {"entityGroup": plan.entity.group, "entityKey": plan.entity.key, "planItems": [{"triggerType": "ONCE"}],
                "sync": sync, **self._exec_detail(plan.entity)}
        _, answer = self._write(
            "run_now_sync" if sync else "run_now", plan, "POST", "/api/schedules", json=body, waited=sync
        )
        if answer:
            context_id = answer["data"]["contextId"]
            self.contexts[context_id] = plan.plan_id
            self.recent.append(context_id)

    def run_now_sync(self, plan: _Plan) -> None:
        self.run_now(plan, sync=True)

    def cancel(self, plan: _Plan) -> None:
        self._write("cancel", plan, "PUT", f"/api/schedules/{plan.plan_id}/cancel", json={})

    def cancel_entity(self, plan: _Plan) -> None:
        self._write(
            "cancel_entity",
            plan,
            "POST",
            "/api/schedules/cancel",
            json={"entityGroup": plan.entity.group, "entityKey": plan.entity.key},
        )

    def list_plans(self, plan: _Plan) -> None:
        e = plan.entity
        params = self.rng.choice([
            {"entityGroup": e.group}, {"entityGroup": e.group, "entityKey": e.key}, {"q": e.key},
            {"limit": 50, "offset": 0}, {"jobStatusList": "RUNNING,SUCCESSFUL", "limit": 20},
        ])
        self.call("list_plans", "GET", "/api/schedules", params=params)

    def list_contexts(self, plan: _Plan) -> None:
        e = plan.entity
        params = self.rng.choice([
            {"entityGroup": e.group, "entityKey": e.key}, {"entityGroup": e.group, "limit": 20},
            {"jobStatus": "RUNNING"}, {"jobStatusList": "SUCCESSFUL,FAILED,CANCELLED", "limit": 20}, {"q": e.key},
        ])
        self.call("list_contexts", "GET", "/api/contexts", params=params)

    def get_plan(self, plan: _Plan) -> None:
        self.call("get_plan", "GET", f"/api/schedules/{plan.plan_id}")

    def get_context(self, plan: _Plan) -> None:
        if not self.recent:
            return self.list_contexts(plan)
        self.call("get_context", "GET", f"/api/contexts/{self.rng.choice(self.recent[-10:])}")

    def logs_block(self, plan: _Plan) -> None:
        if not self.recent:
            return self.run_now(plan)
        self.call("logs_block", "GET", f"/api/contexts/{self.recent[-1]}/logs", params={"block": "true"}, waited=True)


class _NativeClient(_Client):
    def __init__(self, *, own: str, common: str, **kwargs: Any) -> None:
        super().__init__(compat=False, **kwargs)
        self.own, self.common = own, common
        self.runs: list[tuple[str, str]] = []  # (dag id, run id) this client triggered
        self.paused = {own: False, common: False}

    def step(self) -> None:
        kind = self.pick(self.config.weights or NATIVE_WEIGHTS)
        shared = kind in ("trigger", "toggle") and self.rng.random() < self.config.shared_share
        dag_id = self.common if shared else self.own
        if kind == "trigger":
            _, body = self.call(
                "trigger", "POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None}, conflict_ok=shared
            )
            if body:
                self.runs.append((dag_id, body["dag_run_id"]))
        elif kind == "toggle":
            pause = self.rng.random() < 0.5 if shared else not self.paused[dag_id]
            _, body = self.call(
                "pause" if pause else "unpause",
                "PATCH",
                f"/api/v2/dags/{dag_id}",
                json={"is_paused": pause},
                conflict_ok=shared,
            )
            if body:
                self.paused[dag_id] = pause
        elif kind == "list_dags":
            params = self.rng.choice(
                [
                    {"limit": 50},
                    {"limit": 20, "tags": "load"},
                    {"dag_id_pattern": dag_id},
                    {"paused": "false", "limit": 20},
                ]
            )
            self.call("list_dags", "GET", "/api/v2/dags", params=params)
        elif kind == "list_runs":
            path = self.rng.choice(["/api/v2/dags/~/dagRuns", f"/api/v2/dags/{dag_id}/dagRuns"])
            self.call("list_runs", "GET", path, params={"limit": 20, "order_by": "-run_after"})
        elif kind == "get_dag":
            self.call("get_dag", "GET", f"/api/v2/dags/{dag_id}")
        elif kind == "get_run":
            if not self.runs:
                self.call("get_dag", "GET", f"/api/v2/dags/{dag_id}")
            else:
                run_dag, run_id = self.rng.choice(self.runs[-10:])
                self.call("get_run", "GET", f"/api/v2/dags/{run_dag}/dagRuns/{run_id}")


def _drive(
    clients: Sequence[_Client], config: MixConfig, *, drain: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Run every client's `step` until the deadline; then, while waits are still open, `drain` every 3 s.

    Returns when the clients started (time.monotonic()) and the seconds until the end of the last call.
    """
    start = time.monotonic()
    deadline = start + config.seconds

    def loop(client: _Client) -> None:
        while time.monotonic() < deadline:
            client.step()
            if config.think:
                time.sleep(config.think)

    threads = [
        threading.Thread(target=loop, args=(c,), name=f"load-client-{i}", daemon=True) for i, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, deadline - time.monotonic()))
    hard_stop = deadline + config.wait_timeout + 30
    while any(t.is_alive() for t in threads) and time.monotonic() < hard_stop:
        if drain is not None and time.monotonic() > deadline + 1:
            drain()
        for thread in threads:
            thread.join(timeout=3)
            if thread.is_alive():
                break
    for client in clients:
        client.session.close()
    ends = [c.started + c.latency for client in clients for c in client.calls]
    return start, (max(ends) if ends else time.monotonic()) - start


def _quiet_session(token: str) -> requests.Session:
    """Set-up, drain and verification calls: a new connection each, none of them counted."""
    session = _session(token)
    session.headers["Connection"] = "close"
    return session


def _ok_json(session: requests.Session, method: str, url: str, *, tries: int = 5, **kwargs: Any) -> Any:
    """A set-up call that must succeed; retried a few times (the load has not started, nothing is measured)."""
    for attempt in range(tries):
        try:
            response = session.request(method, url, timeout=120, **kwargs)
            if response.status_code < 300:
                return response.json()
            failure = f"{response.status_code} {response.text[:300]}"
        except requests.RequestException as exc:
            failure = repr(exc)
        time.sleep(1 + attempt)
    raise RuntimeError(f"{method} {url} failed {tries} times: {failure}")


def wait_for_dags(target: Target, dag_ids: Iterable[str], *, timeout: float = 300) -> None:
    """Wait until Airflow knows every DAG (parsed), so the load does not start with parse waits."""
    session = _quiet_session(target.token)
    pending = set(dag_ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for dag_id in sorted(pending):
            if session.get(f"{target.base_url}/api/v2/dags/{dag_id}", timeout=60).status_code == 200:
                pending.discard(dag_id)
        if pending:
            time.sleep(1)
    if pending:
        raise RuntimeError(f"{len(pending)} DAG(s) not parsed within {timeout:.0f} s, e.g. {sorted(pending)[:3]}")


def run_taskcenter_mix(
    target: Target, config: MixConfig, *, entities: Sequence[Entity], job_class: str | None = None
) -> MixResult:
    """The compat API mix. Creates (or replaces) one plan per entity used, waits until Airflow parsed
    them, runs the clients, then cancels what still runs until every waiting call has answered.

    `job_class`: the execDetail of every plan and run-now (e.g. a cheap registered job class);
    None: the group's own job class.
    """
    common, owned = assign(entities, config.clients)
    owners: dict[Entity, int] = {}
    for entity in owned:
        owners[entity] = owners.get(entity, 0) + 1
    setup = _quiet_session(target.token)
    plans: dict[Entity, _Plan] = {}
    writes: list[AckWrite] = []
    for entity in [common, *owners]:
        if entity in plans:
            continue
        detail = (
            {}
            if job_class is None
            else {
                "execDetail": {
                    "jobClass": job_class,
                    "jobParams": default_job_params(EntityGroup(entity.group), entity.key),
                    "retryTimes": 0,
                }
            }
        )
        started = time.monotonic()
        body = _ok_json(setup, "POST", f"{target.base_url}/api/schedules", json={
            "entityGroup": entity.group, "entityKey": entity.key, "planItems": [], "enabled": True, **detail,
        })["data"]
        writes.append(
            AckWrite(
                plan_id=body["id"], kind="setup", state=PlanState.of(body), started=started, finished=time.monotonic()
            )
        )
        plans[entity] = _Plan(entity=entity, plan_id=body["id"], shared=entity == common or owners.get(entity, 0) > 1)
    wait_for_dags(target, [dag_id_for(p.plan_id) for p in plans.values()])
    clients = [
        _TaskCenterClient(
            target=target, config=config, index=i, own=plans[entity], common=plans[common], job_class=job_class
        )
        for i, entity in enumerate(owned)
    ]

    def drain() -> None:
        for plan in plans.values():
            try:
                setup.put(f"{target.base_url}/api/schedules/{plan.plan_id}/cancel", json={}, timeout=60)
            except requests.RequestException:
                pass

    start, elapsed = _drive(clients, config, drain=drain)
    return MixResult(
        name="taskcenter /api",
        clients=config.clients,
        start=start,
        seconds=config.seconds,
        elapsed=elapsed,
        calls=tuple(c for client in clients for c in client.calls),
        writes=tuple(writes + [w for client in clients for w in client.writes]),
        contexts={k: v for client in clients for k, v in client.contexts.items()},
        in_doubt=frozenset(p for client in clients for p in client.in_doubt),
        plan_ids=tuple(sorted(p.plan_id for p in plans.values())),
    )


NATIVE_DAG = '''"""A hand-written DAG of the load benchmark: one Python task, like a plan's single job."""
from datetime import datetime, timezone

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def job():
    return sum(range(1000))


with DAG(dag_id="{dag_id}", schedule=None, start_date=datetime(2020, 1, 1, tzinfo=timezone.utc), catchup=False,
         is_paused_upon_creation=False, tags=["load"]):
    PythonOperator(task_id="job", python_callable=job)
'''


def native_dag_ids(clients: int, *, prefix: str = "load_native") -> list[str]:
    """The DAGs of the native mix: the shared one first, then one per client."""
    return [f"{prefix}_shared", *(f"{prefix}_{i}" for i in range(clients))]


def run_native_mix(target: Target, config: MixConfig, *, dag_ids: Sequence[str]) -> MixResult:
    """The `/api/v2` mix on DAGs already parsed (`native_dag_ids`, written from `NATIVE_DAG`)."""
    common, own = dag_ids[0], dag_ids[1:]
    setup = _quiet_session(target.token)
    for dag_id in dag_ids:
        _ok_json(setup, "PATCH", f"{target.base_url}/api/v2/dags/{dag_id}", json={"is_paused": False})
    clients = [
        _NativeClient(target=target, config=config, index=i, own=own[i % len(own)], common=common)
        for i in range(config.clients)
    ]
    start, elapsed = _drive(clients, config)
    calls = tuple(c for client in clients for c in client.calls)
    return MixResult(
        name="Airflow /api/v2",
        clients=config.clients,
        start=start,
        seconds=config.seconds,
        elapsed=elapsed,
        calls=calls,
    )


# -- verification --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Verification:
    plans: int
    contexts: int
    files: int
    problems: tuple[str, ...]


def verify(target: Target, result: MixResult, *, plans_folder: Path | None) -> Verification:
    """After a taskcenter mix: every acknowledged write readable; every plan's DAG file (when the
    folder is known) matching the plan as the API reports it, and no file without a plan."""
    session = _quiet_session(target.token)
    listed: dict[int, dict[str, Any]] = {}
    while True:
        page = _ok_json(
            session, "GET", f"{target.base_url}/api/schedules", params={"limit": 1000, "offset": len(listed)}
        )
        listed.update({p["id"]: p for p in page["data"]})
        if not page["data"] or len(listed) >= page["totalHits"]:
            break
    final: dict[int, PlanState | None] = {}
    for plan_id in {w.plan_id for w in result.writes}:
        if plan_id in listed:
            final[plan_id] = PlanState.of(listed[plan_id])
        else:
            response = session.get(f"{target.base_url}/api/schedules/{plan_id}", timeout=60)
            final[plan_id] = PlanState.of(response.json()["data"]) if response.status_code == 200 else None
    problems = check_acknowledged(result.writes, final, in_doubt=result.in_doubt)
    found: dict[int, int | None] = {}
    for context_id in result.contexts:
        response = session.get(f"{target.base_url}/api/contexts/{context_id}", timeout=60)
        found[context_id] = response.json()["data"]["planId"] if response.status_code == 200 else None
    problems += check_contexts(result.contexts, found)
    files = 0
    if plans_folder is not None:
        for plan_id, plan in sorted(listed.items()):
            path = plans_folder / file_name_for(plan_id)
            problems += check_dag_file(plan, path.read_text(encoding="utf-8") if path.exists() else None)
            files += 1
        orphans = {p.name for p in plans_folder.glob("plan_*.py")} - {file_name_for(i) for i in listed}
        problems += [f"{name}: a DAG file without a plan" for name in sorted(orphans)]
    return Verification(plans=len(final), contexts=len(found), files=files, problems=tuple(problems))
