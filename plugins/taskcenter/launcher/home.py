"""Lays out an AIRFLOW_HOME for taskcenter and writes its airflow.cfg.

The file holds only what taskcenter needs to differ from Airflow's defaults; Airflow supplies the
rest. Secrets (fernet key, API secret, JWT secret) are generated on the first run and kept on later
runs, so tokens and encrypted connections survive a restart.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import secrets
from base64 import urlsafe_b64encode
from dataclasses import dataclass, field
from pathlib import Path

from taskcenter.launcher.demo import DemoPaths
from taskcenter.launcher.postgres import EmbeddedPostgres

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
PLANS_BUNDLE = "taskcenter-plans"
LEGACY_PLANS_SUBFOLDER = "taskcenter_plans"  # where plan files lived, inside `dags-folder`, before
EXAMPLES_BUNDLE = "taskcenter-examples"
# A plan's DAG file changes only when the plan does, and every change queues a parse request; the
# plans' own dag-processor never re-parses an unchanged file on a timer (docs/scale.md).
PLAN_PROCESSOR = "plan-processor"  # the dag-processor of the plans' bundle alone
NEVER = str(10 * 365 * 24 * 3600)
_SECRETS = (("core", "fernet_key"), ("api", "secret_key"), ("api_auth", "jwt_secret"))
POSTGRES = "postgres"  # the embedded PostgreSQL server (the default)
SQLITE = "sqlite"  # a file; for the smallest trials (every write of every process takes turns)
DATABASES = (POSTGRES, SQLITE)
SQLITE_BUSY_TIMEOUT = 60


@dataclass(frozen=True, kw_only=True)
class HomeSettings:
    home: Path
    port: int = 8080
    host: str = "0.0.0.0"
    database: str = POSTGRES
    db_url: str | None = None  # an external metadata DB; `database` is then not used
    examples_dir: Path | None = None
    plugins_dir: Path | None = None
    worker_log_port: int = 8793
    trigger_log_port: int = 8794
    smtp_port: int = 1025
    extra: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def dags_folder(self) -> Path:
        return self.home / "dags"

    @property
    def plans_folder(self) -> Path:
        """The `taskcenter-plans` bundle: one generated DAG file per plan, outside the dags folder
        (whose dag-processor re-parses every file on a timer)."""
        return self.home / "plans"

    @property
    def config_file(self) -> Path:
        return self.home / "airflow.cfg"

    @property
    def sqlite_file(self) -> Path:
        return self.home / "airflow.db"

    @property
    def sqlite_url(self) -> str:
        """The home's SQLite DB. A writer waits up to a minute for SQLite's write lock (pysqlite's
        default is 5 s, after which components and API requests failed with "database is locked")."""
        return f"sqlite:///{self.sqlite_file.resolve()}?timeout={SQLITE_BUSY_TIMEOUT}"

    @property
    def embedded_postgres(self) -> EmbeddedPostgres | None:
        """The embedded server this home runs, or None (SQLite or an external database)."""
        if self.db_url is None and self.database == POSTGRES:
            return EmbeddedPostgres(root=self.home / "postgres")
        return None

    @property
    def sql_alchemy_conn(self) -> str:
        if self.db_url:
            return self.db_url
        if (server := self.embedded_postgres) is not None:
            return server.url()
        return self.sqlite_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        """The environment of every Airflow process started for this home."""
        env = dict(os.environ)
        env["AIRFLOW_HOME"] = str(self.home)
        env["AIRFLOW_CONFIG"] = str(self.config_file)
        # A caller's AIRFLOW__* overrides would silently point components elsewhere.
        for key in [k for k in env if k.startswith("AIRFLOW__")]:
            del env[key]
        return env


def prepare_home(settings: HomeSettings) -> None:
    """Create the folders and (re)write airflow.cfg, keeping the secrets of an earlier run."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.dags_folder.mkdir(parents=True, exist_ok=True)
    settings.plans_folder.mkdir(parents=True, exist_ok=True)
    _remove_legacy_plan_files(settings)
    (settings.home / "logs").mkdir(exist_ok=True)
    config = _build_config(settings, _existing_secrets(settings.config_file))
    tmp = settings.config_file.with_suffix(".cfg.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# Written by `taskcenter run`; edits to these options are replaced on the next run.\n")
        config.write(out)
    os.replace(tmp, settings.config_file)


# Connection pools sized for tens of concurrent API clients (each request holds one connection).
# Airflow's default (5 + 10 overflow per process) made the 16th concurrent request wait 30 s for a
# connection and fail with a 5xx. On SQLite (WAL: readers do not wait for the writer) the extra
# connections let reads go on while writes take turns.
POOL_OPTIONS = {"sql_alchemy_pool_size": "10", "sql_alchemy_max_overflow": "50"}


def _remove_legacy_plan_files(settings: HomeSettings) -> None:
    """Plan files written by an earlier version into the dags folder: derived from the DB, and
    rewritten into the plans bundle by the reconcile step; left there, the dags folder's processor
    would parse the same DAG ids from a second bundle."""
    legacy = settings.dags_folder / LEGACY_PLANS_SUBFOLDER
    if not legacy.is_dir():
        return
    for path in legacy.glob("plan_*.py"):
        path.unlink(missing_ok=True)
    for path in legacy.glob(".*"):
        if path.is_file():
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        legacy.rmdir()


def component_environ(component: str) -> dict[str, str]:
    """Options of one component that differ from the home's airflow.cfg (Airflow reads
    `AIRFLOW__SECTION__OPTION` before the file), for the plans' own dag-processor."""
    if component != PLAN_PROCESSOR:
        return {}
    return {
        # Parsed when changed (a parse request) or new, never again on a timer.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": NEVER,
        # Every file here is a DAG file: no reading of each file to look for "dag" and "airflow".
        "AIRFLOW__CORE__DAG_DISCOVERY_SAFE_MODE": "False",
        # Its periodic table of every file's parse statistics grows with the number of plans.
        "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "0",
    }


# BI platforms schedule most refreshes at the same few times (00:00, 09:00). Airflow creates at
# most 10 runs per scheduler loop: 41 runs due at one second went out in 5 loops over 6.5 s. One
# loop now creates what a burst brings. The runs examined per loop stay at Airflow's 20: examining
# more holds their rows locked longer, and the tasks then waited on the execution API (a task's
# start timed out and failed under a burst of 300 runs); tasks start at the executor's pace anyway.
BURST_OPTIONS = {"max_dagruns_to_create_per_loop": "100"}


# A dead run ends within a minute (docs/job-types.md, "Crashes"). A task whose worker died is
# failed once it has not heartbeat for 60 s (Airflow: 300 s): tasks heartbeat every 2 s here, so
# that is 30 missed beats, and one slow answer of the execution API (up to 30 s, `[workers]
# execution_api_timeout`) still leaves room for the next. The tasks of a dead scheduler are reset
# by a live one once the dead one has not heartbeat for `scheduler_health_check_threshold` (30 s,
# Airflow's default, kept: lower, a scheduler slowed by a burst would be taken for dead and its
# running tasks reset); Airflow looks for them at start and every 300 s, here every 15 s, one
# cheap query.
CRASH_OPTIONS = {"task_instance_heartbeat_timeout": "60", "orphaned_tasks_check_interval": "15"}


def _existing_secrets(config_file: Path) -> dict[tuple[str, str], str]:
    if not config_file.exists():
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config_file)
    return {
        (section, key): parser.get(section, key)
        for section, key in _SECRETS
        if parser.has_option(section, key) and parser.get(section, key)
    }


def _new_secret(section: str, key: str) -> str:
    if (section, key) == ("core", "fernet_key"):
        return urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(32)


def _bundles(settings: HomeSettings) -> list[dict[str, object]]:
    bundles: list[dict[str, object]] = [
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
        {"name": PLANS_BUNDLE, "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(settings.plans_folder.resolve())}},
    ]
    if settings.examples_dir is not None:
        bundles.append(
            {
                "name": EXAMPLES_BUNDLE,
                "classpath": LOCAL_BUNDLE,
                "kwargs": {"path": str(settings.examples_dir.resolve()), "refresh_interval": 30},
            }
        )
    return bundles


def bundle_names(settings: HomeSettings) -> list[str]:
    return [str(bundle["name"]) for bundle in _bundles(settings)]


def _build_config(settings: HomeSettings, kept: dict[tuple[str, str], str]) -> configparser.ConfigParser:
    values: dict[str, dict[str, str]] = {
        "core": {
            "dags_folder": str(settings.dags_folder.resolve()),
            "executor": "LocalExecutor",
            "auth_manager": FAB_AUTH_MANAGER,
            "load_examples": "False",
            "parallelism": "8",
            "execution_api_server_url": f"{settings.base_url}/execution/",
            # A changed plan must be serialized (and seen by the api-server's DAG cache) at once, or a
            # run started right after the change would use the previous definition. Unchanged DAGs
            # are still not rewritten (same hash).
            "min_serialized_dag_update_interval": "0",
        },
        "database": {"sql_alchemy_conn": settings.sql_alchemy_conn, **POOL_OPTIONS},
        # A cancelled task learns it must stop at its next heartbeat: every 2 s, not Airflow's 5 s,
        # so cancel stops the process well within 10 s even on a busy machine.
        # A task's calls to the execution API wait up to 30 s (Airflow: 5 s, five tries): under a
        # burst on a small machine a task's start timed out five times and the run FAILED unrun.
        "workers": {"min_heartbeat_interval": "2", "execution_api_timeout": "30"},
        "api": {
            "host": settings.host,
            "port": str(settings.port),
            # Two worker processes: one Python process held the GIL at 85% of a core with 50
            # clients; with two the same load went from 28 to 45 requests/s (docs/configuration.md).
            "workers": "2",
            "base_url": settings.base_url,
            "expose_config": "False",
        },
        "api_auth": {},
        "dag_processor": {"dag_bundle_config_list": json.dumps(_bundles(settings))},
        "logging": {
            "worker_log_server_port": str(settings.worker_log_port),
            "trigger_log_server_port": str(settings.trigger_log_port),
        },
        "scheduler": {"enable_health_check": "False", **BURST_OPTIONS, **CRASH_OPTIONS},
        "taskcenter": {
            "plans_bundle": PLANS_BUNDLE,
            "plans_subfolder": "",
            "results_folder": str(DemoPaths(home=settings.home.resolve()).results),
        },
    }
    if settings.plugins_dir is not None:
        values["core"]["plugins_folder"] = str(settings.plugins_dir.resolve())
    for section, key in _SECRETS:
        values[section][key] = kept.get((section, key)) or _new_secret(section, key)
    for section, options in settings.extra.items():
        values.setdefault(section, {}).update(options)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict(values)
    return parser
