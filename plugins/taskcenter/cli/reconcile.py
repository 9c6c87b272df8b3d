"""`taskcenter reconcile`: rewrite every plan's DAG file from the DB, remove files of deleted plans
(and record the configured DAG bundles, before any dag-processor starts).

Run against the AIRFLOW_HOME / configuration of the deployment (the launcher runs it on every
start; in a distributed deployment, run it in the init job after `airflow db migrate`).
"""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("reconcile", help="rewrite the plans' generated DAG files from the database")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.utils.session import create_session

    from taskcenter.adapters.airflow.dag_files import configured_dag_files
    from taskcenter.adapters.airflow.plan_dags import reconcile_plan_dags

    # The bundles' rows exist before the two dag-processors start: each inserts the missing ones
    # on its start, and when both found none, the second failed on the primary key and exited.
    DagBundlesManager().sync_bundles_to_db()
    files = configured_dag_files()
    with create_session() as session:
        written, removed = reconcile_plan_dags(session, files)
    print(f"taskcenter reconcile: {written} plan DAG file(s) written, {removed} removed, in {files.folder}")
    return 0
