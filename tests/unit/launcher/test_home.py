from __future__ import annotations

import configparser
import json
import stat
from pathlib import Path

from taskcenter.launcher.home import (
    FAB_AUTH_MANAGER,
    PLAN_PROCESSOR,
    SQLITE,
    HomeSettings,
    component_environ,
    prepare_home,
)


def _read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def test_prepare_home_writes_the_embedded_default(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    examples.mkdir()
    settings = HomeSettings(home=tmp_path / "home", port=18123, examples_dir=examples)
    prepare_home(settings)

    config = _read(settings.config_file)
    assert config["core"]["executor"] == "LocalExecutor"
    assert config["core"]["auth_manager"] == FAB_AUTH_MANAGER
    socket_dir = (settings.home / "postgres" / "run").resolve()
    assert config["database"]["sql_alchemy_conn"] == f"postgresql+psycopg2://postgres@/airflow?host={socket_dir}"
    # Pools sized for tens of concurrent requests, within the embedded server's max_connections.
    assert int(config["database"]["sql_alchemy_pool_size"]) + int(config["database"]["sql_alchemy_max_overflow"]) >= 50
    assert config["api"]["port"] == "18123"
    assert config["core"]["execution_api_server_url"] == "http://127.0.0.1:18123/execution/"
    bundles = json.loads(config["dag_processor"]["dag_bundle_config_list"])
    assert [b["name"] for b in bundles] == ["dags-folder", "taskcenter-plans", "taskcenter-examples"]
    assert bundles[2]["kwargs"]["path"] == str(examples.resolve())
    # Plans in a bundle of their own, outside the dags folder (docs/scale.md).
    assert bundles[1]["kwargs"]["path"] == str(settings.plans_folder.resolve())
    assert settings.plans_folder.is_dir()
    assert not settings.plans_folder.resolve().is_relative_to(Path(config["core"]["dags_folder"]))
    assert config["taskcenter"]["plans_bundle"] == "taskcenter-plans"
    assert config["taskcenter"]["plans_subfolder"] == ""
    # A dead run ends within a minute (docs/job-types.md, "Crashes").
    assert config["scheduler"]["task_instance_heartbeat_timeout"] == "60"
    assert config["scheduler"]["orphaned_tasks_check_interval"] == "15"
    assert stat.S_IMODE(settings.config_file.stat().st_mode) == 0o600


def test_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    settings = HomeSettings(home=tmp_path)
    prepare_home(settings)
    first = _read(settings.config_file)
    prepare_home(HomeSettings(home=tmp_path, port=9999))
    second = _read(settings.config_file)
    for section, key in (("core", "fernet_key"), ("api", "secret_key"), ("api_auth", "jwt_secret")):
        assert first[section][key]
        assert first[section][key] == second[section][key]
    assert second["api"]["port"] == "9999"


def test_two_homes_get_different_secrets(tmp_path: Path) -> None:
    prepare_home(HomeSettings(home=tmp_path / "a"))
    prepare_home(HomeSettings(home=tmp_path / "b"))
    assert (
        _read(tmp_path / "a" / "airflow.cfg")["api_auth"]["jwt_secret"]
        != _read(tmp_path / "b" / "airflow.cfg")["api_auth"]["jwt_secret"]
    )


def test_environ_points_at_the_home_and_drops_foreign_overrides(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    env = HomeSettings(home=tmp_path).environ()
    assert env["AIRFLOW_HOME"] == str(tmp_path)
    assert "AIRFLOW__CORE__EXECUTOR" not in env


def test_a_sqlite_home_waits_a_minute_for_the_write_lock(tmp_path: Path) -> None:
    settings = HomeSettings(home=tmp_path, database=SQLITE)
    prepare_home(settings)
    config = _read(settings.config_file)
    assert config["database"]["sql_alchemy_conn"] == f"sqlite:///{(tmp_path / 'airflow.db').resolve()}?timeout=60"
    assert settings.embedded_postgres is None


def test_an_external_database_url_wins(tmp_path: Path) -> None:
    url = "postgresql+psycopg2://airflow:secret@db.example:5432/airflow"
    settings = HomeSettings(home=tmp_path, db_url=url)
    assert settings.sql_alchemy_conn == url
    assert settings.embedded_postgres is None


def test_only_the_plan_processor_never_parses_on_a_timer() -> None:
    options = component_environ(PLAN_PROCESSOR)
    assert int(options["AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL"]) >= 365 * 24 * 3600
    assert options["AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL"] == "0"
    for component in ("dag-processor", "scheduler", "api-server", "triggerer"):
        assert component_environ(component) == {}


def test_plan_files_of_an_earlier_version_leave_the_dags_folder(tmp_path: Path) -> None:
    settings = HomeSettings(home=tmp_path)
    legacy = settings.dags_folder / "taskcenter_plans"
    legacy.mkdir(parents=True)
    (legacy / "plan_1.py").write_text("dag = None\n")
    (legacy / ".write.lock").write_text("")
    user_dag = settings.dags_folder / "mine.py"
    user_dag.write_text("dag = None\n")
    prepare_home(settings)
    assert not legacy.exists()
    assert user_dag.exists()
