"""`taskcenter run`: the whole product on the embedded default (SQLite, LocalExecutor).

Prepares the AIRFLOW_HOME, migrates the DB, ensures the admin user, starts api-server, scheduler,
dag-processor and triggerer, and stops them all on Ctrl-C. A second run keeps the data.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path

from taskcenter.launcher.admin import PASSWORD_ENV, ensure_admin, resolve_password
from taskcenter.launcher.components import AirflowStack, StartupError, migrate, prepare_demo, reconcile
from taskcenter.launcher.demo import DemoPaths
from taskcenter.launcher.home import HomeSettings, prepare_home


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="start the embedded default (all Airflow components)")
    parser.add_argument("--home", type=Path, default=Path(".taskcenter"), help="AIRFLOW_HOME (default .taskcenter)")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("TASKCENTER_PORT", "8080")),
        help="api-server port (default $TASKCENTER_PORT or 8080)",
    )
    parser.add_argument("--host", default="0.0.0.0", help="api-server bind address")
    parser.add_argument(
        "--smtp-port",
        type=int,
        default=int(os.environ.get("TASKCENTER_SMTP_PORT", "1025")),
        help="port of the local mail catcher on 127.0.0.1 (default $TASKCENTER_SMTP_PORT or 1025)",
    )
    parser.add_argument("--examples-dir", type=Path, default=None, help="folder of example DAGs (repo dags/)")
    parser.add_argument("--plugins-dir", type=Path, default=None, help="Airflow plugins folder (repo plugins/)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.OPTION=VALUE",
        help="an Airflow option for this home, e.g. core.parallelism=4 (repeatable)",
    )
    parser.set_defaults(func=run)


def parse_overrides(pairs: list[str]) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        section, dot, option = key.partition(".")
        if not (sep and dot and section and option):
            raise SystemExit(f"--set {pair!r}: expected SECTION.OPTION=VALUE")
        overrides.setdefault(section.strip(), {})[option.strip()] = value
    return overrides


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def run(args: argparse.Namespace) -> int:
    home = args.home.resolve()
    settings = HomeSettings(
        home=home,
        port=args.port,
        host=args.host,
        smtp_port=args.smtp_port,
        examples_dir=args.examples_dir,
        plugins_dir=args.plugins_dir,
        extra=parse_overrides(args.overrides),
    )
    prepare_home(settings)
    print(f"taskcenter: AIRFLOW_HOME={home}", flush=True)
    print("taskcenter: migrating the metadata DB ...", flush=True)
    log_dir = home / "logs" / "components"
    migrate(settings, log_file=log_dir / "db-migrate.log")
    reconcile(settings, log_file=log_dir / "reconcile.log")
    prepare_demo(settings, log_file=log_dir / "demo.log")
    credentials = resolve_password(home)
    ensure_admin(env=settings.environ(), cwd=home, credentials=credentials, log_file=log_dir / "admin.log")

    stack = AirflowStack(settings)
    # Explicit handlers: a launcher started in the background inherits SIGINT as ignored.
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        stack.start()
        print("taskcenter: starting api-server, scheduler, dag-processor, triggerer ...", flush=True)
        stack.wait_until_healthy()
        _print_ready(settings, credentials.password if credentials.generated else None)
        while not (dead := stack.dead_components()):
            time.sleep(1)
        for component in dead:
            print(f"taskcenter: {component.name} exited ({component.exit_code()}); see {component.log_file}")
        return 1
    except StartupError as exc:
        print(f"taskcenter: {exc}", flush=True)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("\ntaskcenter: stopping ...", flush=True)
        return 0
    finally:
        stack.stop()
        print("taskcenter: stopped", flush=True)


def _print_ready(settings: HomeSettings, new_password: str | None) -> None:
    url = f"http://localhost:{settings.port}"
    demo = DemoPaths(home=settings.home)
    lines = [
        f"taskcenter: ready on {url}",
        f"  Airflow UI        {url}/",
        f"  compat API        {url}/api/schedules , {url}/api/contexts",
        f"  get a token       curl -s -X POST {url}/auth/token -H 'Content-Type: application/json' "
        f"-d '{{\"username\": \"admin\", \"password\": \"...\"}}'",
        f"  admin password    {settings.home / 'admin-password'} (or ${PASSWORD_ENV})",
        f"  component logs    {settings.home / 'logs' / 'components'}",
        f"  demo e-mail       {demo.outbox} (local mail catcher on 127.0.0.1:{settings.smtp_port})",
        f"  job results       {demo.results}",
        "  stop              Ctrl-C",
    ]
    if new_password:
        lines.insert(1, f"  admin password (generated once, kept in admin-password): {new_password}")
    print("\n".join(lines), flush=True)
