"""The pure parts of the load generator: percentiles, outcomes, the checks of acknowledged writes
and DAG files, the reports."""

from __future__ import annotations

import http.client
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from benchmarks.loadmix import (
    BROKEN,
    CLIENT_ERROR,
    CONFLICT,
    ERROR,
    OK,
    SERVER_ERROR,
    TIMEOUT,
    AckWrite,
    Call,
    Entity,
    MixResult,
    PlanState,
    assign,
    check_acknowledged,
    check_contexts,
    check_dag_file,
    classify,
    kind_stats,
    load_catalog,
    percentile,
    report,
    summarize,
    summary_table,
)
from taskcenter.adapters.airflow.dag_files import render
from taskcenter.adapters.airflow.dag_spec import plan_spec
from taskcenter.adapters.catalog.file_catalog import load_entities
from taskcenter.domain.plans import ExecDetail, Plan, PlanItem, TriggerType

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


# -- percentiles ---------------------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 0) == 1 and percentile(values, 100) == 100


def test_percentile_of_one_value_and_of_none() -> None:
    assert percentile([0.25], 99) == 0.25
    assert percentile([], 50) is None


# -- outcomes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "conflict_ok", "outcome"),
    [
        (200, False, OK),
        (204, False, OK),
        (409, True, CONFLICT),
        (409, False, CLIENT_ERROR),
        (400, True, CLIENT_ERROR),
        (404, False, CLIENT_ERROR),
        (500, True, SERVER_ERROR),
        (503, False, SERVER_ERROR),
    ],
)
def test_classify_by_status(status: int, conflict_ok: bool, outcome: str) -> None:
    assert classify(status=status, conflict_ok=conflict_ok) == outcome


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (requests.ConnectionError("reset"), BROKEN),
        (requests.exceptions.ChunkedEncodingError("cut"), BROKEN),
        (http.client.RemoteDisconnected("closed"), BROKEN),
        (ConnectionResetError(), BROKEN),
        (requests.ReadTimeout("slow"), TIMEOUT),
        (requests.exceptions.ConnectTimeout("slow"), TIMEOUT),  # also a ConnectionError: a timeout first
        (ValueError("not the success envelope"), ERROR),
    ],
)
def test_classify_an_exception_before_the_status(error: BaseException, outcome: str) -> None:
    assert classify(status=200, error=error) == outcome


# -- acknowledged writes -------------------------------------------------------------------------------

A = PlanState(crons=(("0 0 9 1 1 ? 2099", "UTC", "CRON"),), enabled=True)
B = PlanState(crons=(("0 30 9 1 1 ? 2099", "UTC", "CRON"),), enabled=True)
C = PlanState(crons=(("0 0 10 1 1 ? 2099", "UTC", "CRON"),), enabled=True)


def write(state: PlanState, started: float, finished: float, *, plan_id: int = 1, kind: str = "upsert") -> AckWrite:
    return AckWrite(plan_id=plan_id, kind=kind, state=state, started=started, finished=finished)


def test_the_last_acknowledged_write_wins() -> None:
    writes = [write(A, 0, 1), write(B, 2, 3)]
    assert check_acknowledged(writes, {1: B}) == []
    (problem,) = check_acknowledged(writes, {1: A})
    assert problem.startswith("plan 1: crons is") and "0 30 9" in problem


def test_of_overlapping_writes_any_may_win_but_not_one_they_follow() -> None:
    writes = [write(A, 0, 1), write(B, 2, 5), write(C, 3, 4)]
    assert check_acknowledged(writes, {1: B}) == []
    assert check_acknowledged(writes, {1: C}) == []
    assert len(check_acknowledged(writes, {1: A})) == 1


def test_enabled_and_crons_are_checked_apart() -> None:
    writes = [write(A, 0, 1), write(PlanState(enabled=False), 2, 3, kind="disable")]
    assert check_acknowledged(writes, {1: PlanState(crons=A.crons, enabled=False)}) == []
    (problem,) = check_acknowledged(writes, {1: A})
    assert problem.startswith("plan 1: enabled is True")
    (problem,) = check_acknowledged(writes, {1: PlanState(crons=B.crons, enabled=False)})
    assert problem.startswith("plan 1: crons is")


def test_an_acknowledged_plan_must_be_readable_even_in_doubt() -> None:
    writes = [write(A, 0, 1), write(B, 0, 1, plan_id=2)]
    (problem,) = check_acknowledged(writes, {1: A, 2: None}, in_doubt={2})
    assert problem == "plan 2: 1 acknowledged write(s), but the plan is not readable"
    assert check_acknowledged(writes, {1: A, 2: C}, in_doubt={2}) == []  # a write without answer may have happened


def test_acknowledged_run_nows_must_be_readable_contexts_of_their_plan() -> None:
    assert check_contexts({10: 1, 11: 2}, {10: 1, 11: 2}) == []
    assert check_contexts({10: 1, 11: 2}, {10: None, 11: 3}) == [
        "context 10 (plan 1): not readable",
        "context 11 (plan 2): reads as plan 3",
    ]


# -- DAG files -----------------------------------------------------------------------------------------


def _wire_item(item_id: int, cron: str, zone: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "planId": 7,
        "triggerType": "CRON_JOB",
        "cronDesc": cron,
        "cronType": "CRON",
        "timeZone": zone,
    }


API_PLAN = {
    "id": 7,
    "entityGroup": "PIPELINE",
    "entityKey": "1001",
    "enabled": True,
    "planItems": [_wire_item(3, "0 0 9 1 1 ? 2099", "UTC"), _wire_item(4, "0 5 1 1 1 ? 2099", "Asia/Shanghai")],
    "execDetail": {
        "jobClass": "com.hengshi.nangaparbat.schedulejob.PipelineJob",
        "jobParams": {"pipeline": 1001},
        "retryTimes": 0,
    },
}


def _generated(*, enabled: bool = True, zone: str = "Asia/Shanghai") -> str:
    """The DAG file taskcenter generates for API_PLAN (with one field changed, on request)."""
    items = tuple(
        PlanItem(
            id=i["id"],
            plan_id=7,
            trigger_type=TriggerType.CRON_JOB,
            cron_desc=i["cronDesc"],
            cron_type="CRON",
            time_zone=zone if i["id"] == 4 else i["timeZone"],
            created_at=NOW,
            created_by=1,
            updated_at=NOW,
            updated_by=1,
        )
        for i in API_PLAN["planItems"]
    )
    detail = API_PLAN["execDetail"]
    plan = Plan(
        id=7,
        entity_group="PIPELINE",
        entity_key="1001",
        enabled=enabled,
        items=items,
        title="load pipeline 1001",
        exec_detail=ExecDetail(job_class=detail["jobClass"], job_params=detail["jobParams"], retry_times=0),
        created_at=NOW,
        created_by=1,
        updated_at=NOW,
        updated_by=1,
    )
    return render(plan_spec(plan, owner="admin"))


def test_a_generated_dag_file_matches_its_plan() -> None:
    assert check_dag_file(API_PLAN, _generated()) == []


def test_a_dag_file_that_differs_from_its_plan_is_reported() -> None:
    (problem,) = check_dag_file(API_PLAN, _generated(enabled=False))
    assert problem == "plan 7: DAG file has enabled False, the API True"
    (problem,) = check_dag_file(API_PLAN, _generated(zone="UTC"))
    assert problem.startswith("plan 7: DAG file has cron") and "'UTC'" in problem
    upstream = {
        **API_PLAN,
        "planItems": [
            *API_PLAN["planItems"],
            {"id": 5, "triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "NOTEBOOK", "entityKey": "1"}]},
        ],
    }
    (problem,) = check_dag_file(upstream, _generated())
    assert problem.startswith("plan 7: DAG file has upstreams []")


def test_a_missing_or_unreadable_dag_file_is_reported() -> None:
    assert check_dag_file(API_PLAN, None) == ["plan 7: no DAG file"]
    (problem,) = check_dag_file(API_PLAN, "dag = None\n")
    assert problem.startswith("plan 7: unreadable DAG file")


def test_plan_state_reads_only_cron_items_in_order() -> None:
    plan = {
        **API_PLAN,
        "planItems": [*reversed(API_PLAN["planItems"]), {"id": 9, "triggerType": "ONCE"}],
        "enabled": False,
    }
    assert PlanState.of(plan) == PlanState(
        crons=(("0 0 9 1 1 ? 2099", "UTC", "CRON"), ("0 5 1 1 1 ? 2099", "Asia/Shanghai", "CRON")), enabled=False
    )


# -- entities ------------------------------------------------------------------------------------------


def test_clients_own_entities_and_share_the_first() -> None:
    entities = [Entity(group="PIPELINE", key=str(k)) for k in range(4)]
    shared, own = assign(entities, 3)
    assert shared == entities[0] and own == entities[1:]
    _, own = assign(entities, 5)  # too few: round robin
    assert own == [entities[1], entities[2], entities[3], entities[1], entities[2]]
    assert assign(entities[:1], 2) == (entities[0], [entities[0], entities[0]])
    with pytest.raises(ValueError):
        assign([], 1)


def test_the_load_catalog_is_a_valid_catalog_file(tmp_path: Any) -> None:
    path = tmp_path / "catalog.json"
    import json

    path.write_text(json.dumps(load_catalog(3)))
    entities = load_entities(path)
    assert sorted(entities) == [("PIPELINE", "1001"), ("PIPELINE", "1002"), ("PIPELINE", "1003")]
    assert entities[("PIPELINE", "1002")].definition["nodes"][0]["type"] == "sql"


# -- reports -------------------------------------------------------------------------------------------


def call(kind: str, latency: float, outcome: str = OK, *, waited: bool = False, status: int | None = 200) -> Call:
    return Call(
        kind=kind,
        status=status,
        latency=latency,
        waited=waited,
        outcome=outcome,
        started=0.0,
        detail="boom" if outcome != OK else "",
    )


def test_summary_separates_waiting_calls_and_counts_errors() -> None:
    calls = [call("get_plan", 0.1 * i) for i in range(1, 11)]
    calls += [call("logs_block", 30.0, waited=True), call("update", 0.5, CONFLICT, status=409)]
    calls += [call("upsert", 0.2, SERVER_ERROR, status=500), call("get_plan", 0.3, BROKEN, status=None)]
    calls += [call("get_context", 0.1, CLIENT_ERROR, status=404), call("list_plans", 60.0, TIMEOUT, status=None)]
    summary = summarize(
        MixResult(name="taskcenter /api", clients=2, start=0.0, seconds=8.0, elapsed=60.0, calls=tuple(calls))
    )
    assert (
        summary.calls == 16 and summary.throughput == 14 / 8
    )  # answered within the 8 s: not the 30 s wait, not the timeout
    assert summary.waiting.calls == 1 and summary.waiting.p95 == 30.0
    assert summary.fast.calls == 15 and summary.fast.p99 < 60.0
    assert (summary.server_errors, summary.broken, summary.conflicts, summary.other_errors) == (1, 1, 1, 2)
    stats = {s.kind: s for s in kind_stats(calls)}
    assert stats["get_plan"].calls == 11 and stats["get_plan"].counts[BROKEN] == 1
    assert stats["get_plan"].p50 == pytest.approx(0.5)  # 0.1 .. 1.0 and 0.3


def test_reports_are_markdown_tables() -> None:
    result = MixResult(
        name="taskcenter /api",
        clients=2,
        start=0.0,
        seconds=1.0,
        elapsed=1.0,
        calls=(call("get_plan", 0.05), call("upsert", 0.2, SERVER_ERROR, status=500)),
    )
    text = report(result)
    assert "| get_plan | no | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 50 | 50 | 50 |" in text
    assert "| upsert | no | 1 | 0 | 0 | 0 | 1 |" in text
    assert "5xx 1, broken connections 0" in text and "- 1 x upsert -> 500: boom" in text
    table = summary_table([summarize(result)])
    assert table.splitlines()[-1] == "| taskcenter /api | 2 | 2.0 | 125 | 192 | 198 | - | 1 | 0 | 0 | 0 |"
