"""Benchmark: N clients x T seconds of the compat API mix, and of Airflow's own API, on one instance.

    .venv/bin/python benchmarks/bench_load.py [--clients 10,50,100] [--seconds 60] [--backend postgres|sqlite]
    .venv/bin/python benchmarks/bench_load.py --url http://127.0.0.1:8080 \
        --password "$(cat .taskcenter/admin-password)" --home .taskcenter
    (or: make bench-load; make bench runs it with shorter rounds)

Without `--url` it starts one taskcenter on a temporary AIRFLOW_HOME (tests/integration/harness.py,
`--backend postgres`: the embedded default, or `sqlite`) with a catalog of PIPELINE entities, one per
client (each a read-only SQL node on the demo source: a cheap, real run), and stops it at the end.
For each N it runs, in turn:

- the taskcenter mix (benchmarks/loadmix.py: upserts, updates, enable/disable, run-now, sync
  run-now, both cancels, plan and context lists, single reads, `block=true` log waits; a share of
  the writes on one plan all clients share), then checks that every acknowledged write is readable
  and that every plan's DAG file matches its row;
- the equivalent calls of Airflow's REST API on hand-written DAGs, one per client: trigger a DAG
  run, pause/unpause, list DAGs, list DAG runs, get a DAG, get a DAG run.

Between the mixes it removes what the previous one made and waits until no run is queued or running.
It prints one markdown table per mix (per call kind: outcomes, p50/p95/p99) and a summary table:
throughput, p50/p95/p99 of the calls that do not wait for a run by request, those that do apart,
5xx, broken connections, other errors.

With `--url` it loads an instance that is already running (`make run`): plans go to the entities of
that instance's catalog (the demo catalog: their own job types run, and the mix replaces the
triggers of their plans); nothing is deleted afterwards. `--home` (the instance's AIRFLOW_HOME) is
needed for the DAG-file check and the Airflow mix (hand-written DAG files go into its dags folder).
"""

from __future__ import annotations

import argparse
import configparser
import json
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import loadmix  # noqa: E402
from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG  # noqa: E402
from taskcenter.launcher.home import HomeSettings  # noqa: E402
from tests.integration.harness import RunningTaskCenter, add_dag_files, delete_all_plans, start_taskcenter  # noqa: E402


def active_runs(target: loadmix.Target) -> list[dict]:
    response = requests.get(
        f"{target.base_url}/api/v2/dags/~/dagRuns", params={"state": ["queued", "running"], "limit": 1000},
        headers={"Authorization": f"Bearer {target.token}"}, timeout=60,
    )
    response.raise_for_status()
    return response.json()["dag_runs"]


def settle(target: loadmix.Target, *, timeout: float = 180) -> None:
    """Wait until no DAG run is queued or running, so the next mix starts on an idle instance."""
    deadline = time.monotonic() + timeout
    while active_runs(target) and time.monotonic() < deadline:
        time.sleep(2)


def remove_native_dags(target: loadmix.Target, dags_folder: Path, dag_ids: list[str]) -> None:
    """Delete the mix's DAG files, end their runs and delete the DAGs (runs included) from Airflow."""
    headers = {"Authorization": f"Bearer {target.token}"}
    for dag_id in dag_ids:
        (dags_folder / f"{dag_id}.py").unlink(missing_ok=True)
        requests.patch(f"{target.base_url}/api/v2/dags/{dag_id}", json={"is_paused": True}, headers=headers, timeout=60)
    for run in active_runs(target):
        if run["dag_id"] in dag_ids:
            requests.patch(
                f"{target.base_url}/api/v2/dags/{run['dag_id']}/dagRuns/{run['dag_run_id']}",
                json={"state": "failed"},
                headers=headers,
                timeout=60,
            )
    for dag_id in dag_ids:
        for _ in range(10):
            if requests.delete(f"{target.base_url}/api/v2/dags/{dag_id}", headers=headers, timeout=60).status_code in (
                200,
                204,
                404,
            ):
                break
            time.sleep(2)


def home_config(home: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(home / "airflow.cfg"):
        raise SystemExit(f"no airflow.cfg in {home}")
    return parser


def run(
    args: argparse.Namespace,
    target: loadmix.Target,
    *,
    home: Path | None,
    entities: list[loadmix.Entity],
    tc: RunningTaskCenter | None,
) -> list[loadmix.Summary]:
    config = home_config(home) if home is not None else None
    dags_folder = Path(config.get("core", "dags_folder")) if config else None
    plans_folder = HomeSettings(home=home).plans_folder if config is not None and home is not None else None
    summaries = []
    for clients in args.clients:
        mix = loadmix.MixConfig(
            clients=clients, seconds=args.seconds, shared_share=args.share, think=args.think, seed=args.seed
        )
        result = loadmix.run_taskcenter_mix(target, mix, entities=entities)
        check = loadmix.verify(target, result, plans_folder=plans_folder)
        print(loadmix.report(result), flush=True)
        print(
            f"\nchecked {check.plans} plans, {check.contexts} contexts of acknowledged run-nows, {check.files} DAG "
            "files: "
            f"{len(check.problems)} problem(s)" + "".join(f"\n- {p}" for p in check.problems[:20]) + "\n",
            flush=True,
        )
        summaries.append(loadmix.summarize(result))
        if tc is not None:
            delete_all_plans(tc)
            settle(target)
        if dags_folder is None or config is None:
            print("(no --home: the Airflow mix needs the instance's dags folder; skipped)\n")
            continue
        dag_ids = loadmix.native_dag_ids(clients, prefix=f"load_native_n{clients}")
        add_dag_files(
            dags_folder,
            config.get("database", "sql_alchemy_conn"),
            {f"{d}.py": loadmix.NATIVE_DAG.format(dag_id=d) for d in dag_ids},
        )
        loadmix.wait_for_dags(target, dag_ids)
        native = loadmix.run_native_mix(target, mix, dag_ids=dag_ids)
        print(loadmix.report(native) + "\n", flush=True)
        summaries.append(loadmix.summarize(native))
        remove_native_dags(target, dags_folder, dag_ids)
        if tc is not None:
            settle(target)
    return summaries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--clients", type=lambda s: [int(n) for n in s.split(",")], default=[10, 50, 100], help="comma-separated N"
    )
    parser.add_argument("--seconds", type=float, default=60, help="duration of each mix")
    parser.add_argument(
        "--backend", choices=("postgres", "sqlite"), default="postgres", help="database of the started instance"
    )
    parser.add_argument(
        "--share", type=float, default=0.1, help="share of the writes that go to the plan all clients share"
    )
    parser.add_argument("--think", type=float, default=0.0, help="seconds each client pauses between calls")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", help="load this running instance instead of starting one")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", help="with --url: the user's password")
    parser.add_argument(
        "--home", type=Path, help="with --url: the instance's AIRFLOW_HOME (DAG-file check, Airflow mix)"
    )
    args = parser.parse_args()
    if args.url:
        response = requests.post(
            f"{args.url.rstrip('/')}/auth/token", json={"username": args.user, "password": args.password}, timeout=30
        )
        response.raise_for_status()
        target = loadmix.Target(base_url=args.url.rstrip("/"), token=response.json()["access_token"])
        catalog = home_config(args.home).get("taskcenter", "catalog_path", fallback="") if args.home else ""
        entities = loadmix.catalog_entities(Path(catalog) if catalog else DEMO_CATALOG)
        where = args.url
        summaries = run(args, target, home=args.home, entities=entities, tc=None)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            home = Path(tmp) / "home"
            catalog = Path(tmp) / "load-catalog.json"
            catalog.write_text(json.dumps(loadmix.load_catalog(max(args.clients) + 1), indent=1))
            tc = start_taskcenter(backend=args.backend, home=home, extra={"taskcenter": {"catalog_path": str(catalog)}})
            try:
                target = loadmix.Target(base_url=tc.base_url, token=tc.token)
                time.sleep(5)  # let the first parsing loops settle
                summaries = run(args, target, home=home, entities=loadmix.catalog_entities(catalog), tc=tc)
                if tc.restarts:
                    print("component restarts during the benchmark:\n" + "\n".join(f"- {r}" for r in tc.restarts))
            finally:
                tc.stop()
        where = f"a new instance ({args.backend}, LocalExecutor)"
    print(
        f"### Load: {args.seconds:g} s per mix on {where}, think time {args.think:g} s, {args.share:.0%} of the writes "
        "on one shared plan/DAG\n"
    )
    print(loadmix.summary_table(summaries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
