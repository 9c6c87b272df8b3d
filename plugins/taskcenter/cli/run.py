"""`taskcenter run`: the whole product on the embedded default (PostgreSQL, LocalExecutor).

Prepares the AIRFLOW_HOME, starts the embedded PostgreSQL server, migrates the DB, ensures the
admin user, starts api-server, scheduler, dag-processor and triggerer, restarts any of them that
dies, and stops them all on Ctrl-C or SIGTERM. A second run keeps the data.

The database: `--database postgres` (the default for a new home: the embedded server, data in
`<home>/postgres/`), `--database sqlite` (a file, for the smallest trials), or an external server
with `TASKCENTER_DB_URL`. A home made on SQLite by an earlier version moves to the embedded
server on its first start (`taskcenter.launcher.move`), unless started with `--database sqlite`.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from taskcenter.launcher.admin import PASSWORD_ENV, ensure_admin, resolve_password
from taskcenter.launcher.components import AirflowStack, migrate, prepare_demo, reconcile
from taskcenter.launcher.demo import DemoPaths
from taskcenter.launcher.home import DATABASES, POSTGRES, SQLITE, HomeSettings, prepare_home

DB_URL_ENV = "TASKCENTER_DB_URL"


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
        "--database",
        choices=DATABASES,
        default=None,
        help="metadata DB: the embedded PostgreSQL server (default for a new home) or a SQLite file "
        f"(trials only); ${DB_URL_ENV} points at an external server instead",
    )
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


@dataclass(frozen=True, kw_only=True)
class DatabaseChoice:
    database: str
    move_from_sqlite: bool = False  # copy the home's SQLite DB into the embedded server first
    note: str | None = None


def choose_database(home: Path, requested: str | None) -> DatabaseChoice:
    """The home's database; a home made on SQLite moves to the embedded server unless told to stay.

    A finished move renames `airflow.db`, so a home that still has one was never moved, or its
    move failed and starts over.
    """
    if requested == SQLITE:
        return DatabaseChoice(database=SQLITE)
    if (home / "airflow.db").exists():
        return DatabaseChoice(
            database=POSTGRES,
            move_from_sqlite=True,
            note=(
                f"this home keeps its data in SQLite ({home / 'airflow.db'}); moving every plan, run, user and "
                "connection to the embedded PostgreSQL server (the SQLite file is kept as a backup; "
                "--database sqlite stays on SQLite)"
            ),
        )
    return DatabaseChoice(database=POSTGRES)


class _Stop(Exception):
    pass


def _stop_on_signals(stopping: threading.Event) -> None:
    """Ctrl-C and SIGTERM stop the product; the first one interrupts start-up, later ones are ignored."""

    def handler(signum: int, _frame: object) -> None:
        if stopping.is_set():
            return
        stopping.set()
        raise _Stop(signum)

    # Explicit handlers: a launcher started in the background inherits SIGINT as ignored.
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run(args: argparse.Namespace) -> int:
    home = args.home.resolve()
    db_url = os.environ.get(DB_URL_ENV) or None
    choice = DatabaseChoice(database=POSTGRES) if db_url else choose_database(home, args.database)
    settings = HomeSettings(
        home=home,
        port=args.port,
        host=args.host,
        database=choice.database,
        db_url=db_url,
        smtp_port=args.smtp_port,
        examples_dir=args.examples_dir,
        plugins_dir=args.plugins_dir,
        extra=parse_overrides(args.overrides),
    )
    stack = AirflowStack(settings)
    stopping = threading.Event()
    _stop_on_signals(stopping)
    try:
        prepare_home(settings)
        print(f"taskcenter: AIRFLOW_HOME={home}", flush=True)
        if choice.note:
            print(f"taskcenter: note: {choice.note}", flush=True)
        if settings.embedded_postgres is not None:
            print(
                f"taskcenter: starting the embedded PostgreSQL server ({settings.embedded_postgres.root}) ...",
                flush=True,
            )
            stack.start_database()
        log_dir = home / "logs" / "components"
        if choice.move_from_sqlite:
            _move_from_sqlite(settings, log_file=log_dir / "db-migrate.log")
        print("taskcenter: migrating the metadata DB ...", flush=True)
        migrate(settings, log_file=log_dir / "db-migrate.log")
        reconcile(settings, log_file=log_dir / "reconcile.log")
        prepare_demo(settings, log_file=log_dir / "demo.log")
        credentials = resolve_password(home)
        ensure_admin(env=settings.environ(), cwd=home, credentials=credentials, log_file=log_dir / "admin.log")
        print("taskcenter: starting api-server, scheduler, dag-processor, triggerer ...", flush=True)
        stack.start()
        stack.wait_until_healthy()
        _print_ready(settings, credentials.password if credentials.generated else None)
        stack.watch(stopping)
        return 0
    except RuntimeError as exc:  # StartupError, EmbeddedPostgresError, a failed admin step
        print(f"taskcenter: {exc}", flush=True)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("\ntaskcenter: stopping ...", flush=True)
        return 0
    finally:
        stopping.set()
        stack.stop()
        print("taskcenter: stopped", flush=True)


def _move_from_sqlite(settings: HomeSettings, *, log_file: Path) -> None:
    """Copy the home's SQLite DB into a fresh `airflow` database of the embedded server, then retire it."""
    from taskcenter.launcher.move import copy_rows, retire_sqlite_file
    from taskcenter.launcher.postgres import METADATA_DB

    server = settings.embedded_postgres
    assert server is not None
    print("taskcenter: bringing the SQLite DB up to this version's schema ...", flush=True)
    migrate(settings, log_file=log_file, sql_alchemy_conn=settings.sqlite_url)
    server.recreate_database(METADATA_DB)  # a move always starts on an empty database
    print("taskcenter: creating the schema on PostgreSQL ...", flush=True)
    migrate(settings, log_file=log_file)
    tables, rows = copy_rows(sqlite_url=settings.sqlite_url, postgres_url=server.url())
    backup = retire_sqlite_file(settings.sqlite_file)
    print(
        f"taskcenter: moved {rows} rows of {tables} tables to PostgreSQL; the SQLite file is kept as {backup}",
        flush=True,
    )


def _database_line(settings: HomeSettings) -> str:
    if settings.db_url:
        return f"external ({DB_URL_ENV})"
    if (server := settings.embedded_postgres) is not None:
        return f"embedded PostgreSQL, data in {server.data_dir}"
    return f"SQLite {settings.sqlite_file} (trials only)"


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
        f"  metadata DB       {_database_line(settings)}",
        f"  component logs    {settings.home / 'logs' / 'components'}",
        f"  demo e-mail       {demo.outbox} (local mail catcher on 127.0.0.1:{settings.smtp_port})",
        f"  job results       {demo.results}",
        "  stop              Ctrl-C",
    ]
    if new_password:
        lines.insert(1, f"  admin password (generated once, kept in admin-password): {new_password}")
    print("\n".join(lines), flush=True)
