"""`taskcenter demo`: create the demo source database and the demo connections of an AIRFLOW_HOME.

The launcher runs it on every start (it only adds what is missing); run it by hand to try the
demo catalog on an existing deployment.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="create the demo source database and connections")
    parser.add_argument("--smtp-port", type=int, default=1025, help="port of the local mail catcher (default 1025)")
    parser.add_argument(
        "--engine-socket",
        type=Path,
        default=None,
        help="socket folder of the embedded PostgreSQL server holding the dataset engine (default: a SQLite file)",
    )
    parser.add_argument(
        "--engine-url",
        default=None,
        help="PostgreSQL URL of the dataset engine's database (a cluster: hosts share no disk)",
    )
    parser.add_argument("--smtp-host", default="127.0.0.1", help="host of the mail catcher (default 127.0.0.1)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from airflow.configuration import conf

    from taskcenter.launcher.demo import prepare_demo

    home = Path(os.environ.get("AIRFLOW_HOME") or conf.get("core", "airflow_home"))
    created = prepare_demo(
        home,
        smtp_port=args.smtp_port,
        engine_socket=args.engine_socket,
        engine_url=args.engine_url,
        smtp_host=args.smtp_host,
    )
    print(f"taskcenter demo: connections created: {', '.join(created) or 'none (all exist)'}")
    return 0
