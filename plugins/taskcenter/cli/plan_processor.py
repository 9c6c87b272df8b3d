"""`taskcenter plan-processor`: the dag-processor of the plans' bundle (docs/scale.md).

The launcher runs it beside Airflow's own `airflow dag-processor` (which serves the other
bundles); a distributed deployment runs one wherever it runs dag-processors.
"""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan-processor", help="parse the plans' DAG files when they change (never on a timer)"
    )
    parser.add_argument(
        "--bundle-name",
        action="append",
        default=None,
        help="bundle to serve (default: [taskcenter] plans_bundle); may be given more than once",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from airflow.utils.providers_configuration_loader import providers_configuration_loaded

    from taskcenter.adapters import config
    from taskcenter.adapters.airflow.plan_processor import run_plan_processor

    @providers_configuration_loaded
    def serve() -> None:
        bundles = args.bundle_name or [config.plans_bundle()]
        run_plan_processor(bundle_names=bundles)

    serve()
    return 0
