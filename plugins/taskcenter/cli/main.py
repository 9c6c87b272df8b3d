"""The `taskcenter` console script: `run` starts the embedded default, `cron` previews schedules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from taskcenter.cli import cron, demo, plan_processor, reconcile, run, run_cluster

    parser = argparse.ArgumentParser(prog="taskcenter", description="taskcenter: task management center on Airflow")
    subparsers = parser.add_subparsers(dest="command", required=True)
    run.add_parser(subparsers)
    run_cluster.add_parser(subparsers)
    cron.add_parser(subparsers)
    reconcile.add_parser(subparsers)
    demo.add_parser(subparsers)
    plan_processor.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
