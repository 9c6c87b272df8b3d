"""The cluster's layout (pure): hosts, the airflow.cfg every host gets, the commands and environment."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

import pytest

from taskcenter.launcher.cluster import (
    MOUNT_POINT,
    PLAN_FILES_BUNDLE,
    ClusterSettings,
    host_components,
    host_config,
    host_environ,
    host_names,
    secrets_of,
    target_of,
)


def settings(tmp_path: Path, **extra: object) -> ClusterSettings:
    values: dict[str, object] = {
        "root": tmp_path / "cluster",
        "db_url": "postgresql+psycopg2://postgres:pw@127.0.0.1:5432/taskcenter_cluster",
        "broker_url": "redis://127.0.0.1:6379/0",
        "prefix": "tcunit",
    }
    return ClusterSettings(**{**values, **extra})  # type: ignore[arg-type]


def test_each_component_is_a_host_and_workers_and_schedulers_are_counted() -> None:
    assert host_names(schedulers=2, workers=2) == (
        "api-server", "scheduler-1", "scheduler-2", "dag-processor", "triggerer", "worker-1", "worker-2",
    )  # fmt: skip
    assert host_names(schedulers=1, workers=3)[-3:] == ("worker-1", "worker-2", "worker-3")


def test_every_host_reaches_the_db_and_the_broker_at_the_bridge_address(tmp_path: Path) -> None:
    cluster = settings(tmp_path)
    gateway = str(cluster.network.gateway)
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(host_config(cluster, secrets_of(cluster.root)))
    assert config.get("core", "executor") == "CeleryExecutor"
    assert (
        config.get("database", "sql_alchemy_conn")
        == f"postgresql+psycopg2://postgres:pw@{gateway}:5432/taskcenter_cluster"
    )
    assert config.get("celery", "broker_url") == f"redis://{gateway}:6379/0"
    assert config.get("celery", "result_backend").startswith("db+postgresql+psycopg2://")
    assert config.get("core", "execution_api_server_url") == "http://api-server:8080/execution/"
    assert config.get("core", "dags_folder") == f"{MOUNT_POINT}/dags"  # the host's own disk
    bundles = {b["name"]: b for b in json.loads(config.get("dag_processor", "dag_bundle_config_list"))}
    assert bundles["taskcenter-plans"]["classpath"] == PLAN_FILES_BUNDLE  # plans through the DB, no shared folder
    assert bundles["taskcenter-plans"]["kwargs"]["path"] == f"{MOUNT_POINT}/plans"


def test_the_hosts_share_the_secrets_made_on_the_first_start(tmp_path: Path) -> None:
    cluster = settings(tmp_path)
    first = secrets_of(cluster.root)
    assert secrets_of(cluster.root) == first
    assert set(first) == {("core", "fernet_key"), ("api", "secret_key"), ("api_auth", "jwt_secret")}
    assert (cluster.root / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_a_hosts_programs_run_in_its_namespaces_on_its_own_disk(tmp_path: Path) -> None:
    cluster = settings(tmp_path)
    components = {c.name: c for c in host_components(cluster)}
    assert set(components) >= {"api-server", "dag-processor", "plan-processor", "triggerer", "worker-1", "scheduler-2"}
    worker = components["worker-1"].command
    assert worker[:4] == ["ip", "netns", "exec", "tcunit-worker-1"]
    assert str(cluster.folder("worker-1").resolve()) in worker and MOUNT_POINT in worker
    assert worker[-4:] == ["celery", "worker", "--celery-hostname", "worker-1@worker-1"]
    assert list(components)[-1].startswith("scheduler-")  # the schedulers start last


def test_a_task_reads_the_plans_files_through_a_connection_of_its_host(tmp_path: Path) -> None:
    cluster = settings(tmp_path)
    env = host_environ(cluster, {"AIRFLOW__CORE__EXECUTOR": "elsewhere", "PATH": "/bin"})
    assert "AIRFLOW__CORE__EXECUTOR" not in env and env["PATH"] == "/bin"
    assert env["AIRFLOW_HOME"] == MOUNT_POINT
    conn = json.loads(env["AIRFLOW_CONN_TASKCENTER_METADATA"])
    assert conn["host"] == str(cluster.network.gateway) and conn["schema"] == "taskcenter_cluster"


def test_a_database_on_a_socket_cannot_be_forwarded() -> None:
    assert target_of("redis://10.0.0.5:6380/1", default_port=6379) == ("10.0.0.5", 6380)
    with pytest.raises(ValueError, match="host and port"):
        target_of("postgresql://postgres@/airflow?host=/var/run/postgresql", default_port=5432)
