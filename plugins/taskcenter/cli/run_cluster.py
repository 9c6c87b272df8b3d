"""`taskcenter run-cluster`: the CeleryExecutor topology on this machine, each component its own host.

Two schedulers, two Celery workers, the dag-processors, the triggerer and the api-server, each in
a network namespace of its own with its own disk (docs/cluster.md). Needs root (namespaces).
PostgreSQL: the machine's server (`TASKCENTER_DB_URL`, default postgres@127.0.0.1:5432, database
`taskcenter_cluster`); Redis: `TASKCENTER_BROKER_URL` (default redis://127.0.0.1:6379/0). The
admin password follows `make run`'s rules. Ctrl-C stops every program and removes the namespaces.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskcenter.launcher.cluster import ClusterSettings, ClusterStack

DB_URL_ENV = "TASKCENTER_DB_URL"
BROKER_URL_ENV = "TASKCENTER_BROKER_URL"
DEFAULT_DB_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/taskcenter_cluster"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run-cluster", help="start the CeleryExecutor topology, each component its own host")
    parser.add_argument("--home", type=Path, default=Path(".taskcenter-cluster"), help="the cluster's folder")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("TASKCENTER_PORT", "8080")), help="api-server port on 127.0.0.1"
    )
    parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("TASKCENTER_SMTP_PORT", "1025")))
    parser.add_argument("--workers", type=int, default=2, help="Celery workers, each its own host (default 2)")
    parser.add_argument("--schedulers", type=int, default=2, help="schedulers, each its own host (default 2)")
    parser.add_argument("--prefix", default="tc", help="name prefix of the namespaces and links (default tc)")
    parser.add_argument("--examples-dir", type=Path, default=None, help="folder of example DAGs (repo dags/)")
    parser.add_argument("--plugins-dir", type=Path, default=None, help="Airflow plugins folder (repo plugins/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from taskcenter.cli.run import _Stop, _stop_on_signals
    from taskcenter.launcher.cluster import ClusterSettings

    settings = ClusterSettings(
        root=args.home.resolve(),
        db_url=os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL,
        broker_url=os.environ.get(BROKER_URL_ENV) or DEFAULT_BROKER_URL,
        port=args.port,
        smtp_port=args.smtp_port,
        workers=args.workers,
        schedulers=args.schedulers,
        prefix=args.prefix,
        examples_dir=args.examples_dir,
        plugins_dir=args.plugins_dir,
    )
    stopping = threading.Event()
    _stop_on_signals(stopping)
    try:
        with ExitStack() as cleanup:
            try:
                stack = start_cluster(settings, cleanup=cleanup)
                stack.watch(stopping)
            except RuntimeError as exc:  # StartupError, NetworkError, a failed set-up step
                print(f"taskcenter: {exc}", flush=True)
                return 1
            except (KeyboardInterrupt, _Stop):
                print("\ntaskcenter: stopping ...", flush=True)
            finally:
                stopping.set()
        return 0
    finally:  # after the cleanup: every program stopped, the namespaces removed
        print("taskcenter: stopped", flush=True)


def start_cluster(
    settings: ClusterSettings, *, cleanup: ExitStack, report: Callable[[str], None] = print
) -> ClusterStack:
    """Bring the cluster up (network, databases, hosts, set-up steps, programs) and return its
    stack; `cleanup` stops everything again, in reverse order, whatever happened."""
    from taskcenter.launcher.admin import ensure_admin, resolve_password
    from taskcenter.launcher.cluster import (
        API_PORT,
        BROKER_PORT,
        DB_PORT,
        SMTP_PORT,
        cluster_stack,
        ensure_databases,
        host_environ,
        host_step,
        on_host,
        prepare_hosts,
        target_of,
    )
    from taskcenter.launcher.network import Forwarder, NetworkError, Topology, unavailable_reason

    if reason := unavailable_reason():
        raise NetworkError(f"run-cluster gives each component a network namespace of its own: {reason}")
    network = settings.network
    gateway = str(network.gateway)
    report(f"taskcenter: cluster folder {settings.root}; hosts {', '.join(h.name for h in network.hosts)}")
    ensure_databases(settings)
    topology = Topology(network)
    cleanup.callback(topology.down)
    topology.up()
    api = network.host("api-server")
    for forwarder in (
        Forwarder(listen=(gateway, DB_PORT), target=target_of(settings.db_url, default_port=5432), name="postgres"),
        Forwarder(
            listen=(gateway, BROKER_PORT), target=target_of(settings.broker_url, default_port=6379), name="redis"
        ),
        Forwarder(listen=(gateway, SMTP_PORT), target=("127.0.0.1", settings.smtp_port), name="smtp"),
        Forwarder(listen=("127.0.0.1", settings.port), target=(str(api.ip), API_PORT), name="api-server"),
    ):
        forwarder.start()
        cleanup.callback(forwarder.stop)
    prepare_hosts(settings)
    logs = settings.log_dir
    python = [sys.executable, "-m"]
    report("taskcenter: migrating the metadata DB ...")
    host_step(
        settings,
        "api-server",
        [*python, "airflow", "db", "migrate"],
        what="airflow db migrate",
        log_file=logs / "db-migrate.log",
    )
    host_step(
        settings,
        "api-server",
        [*python, "taskcenter.cli.main", "reconcile"],
        what="taskcenter reconcile",
        log_file=logs / "reconcile.log",
    )
    demo = [*python, "taskcenter.cli.main", "demo", "--smtp-host", gateway, "--smtp-port", str(SMTP_PORT),
            "--engine-url", settings.on_hosts(settings.engine_url, port=DB_PORT)]  # fmt: skip
    for host in ["api-server", *(h.name for h in network.hosts if h.name.startswith("worker-"))]:
        host_step(settings, host, demo, what="taskcenter demo", log_file=logs / "demo.log")
    credentials = resolve_password(settings.root)
    ensure_admin(
        env=host_environ(settings, dict(os.environ)),
        cwd=settings.root,
        credentials=credentials,
        log_file=logs / "admin.log",
        prefix=on_host(settings, api, []),
    )
    report("taskcenter: starting the hosts' programs ...")
    stack = cluster_stack(settings)
    cleanup.callback(stack.stop)
    stack.start()
    stack.wait_until_healthy(timeout=300)
    report(
        f"taskcenter: cluster ready on http://localhost:{settings.port} "
        f"(admin password: {settings.root / 'admin-password'})"
    )
    if credentials.generated:
        report(f"  admin password (generated once, kept in admin-password): {credentials.password}")
    return stack
