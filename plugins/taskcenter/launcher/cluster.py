"""The distributed topology on one machine: each component its own host (`make run-cluster`).

Airflow's CeleryExecutor with two schedulers, two Celery workers, the dag-processors, the
triggerer and the api-server, each in a network namespace of its own (its own address, hostname
and ports, `network.py`) with its own disk: a folder bound at `MOUNT_POINT` for its programs
alone, so every host finds AIRFLOW_HOME, the plans' files and the results at the same path, as in
a container image, and no host sees another's files. Hosts share only what a real cluster shares:
the metadata DB (PostgreSQL) and the broker (Redis), reached through forwarders on the bridge
address, and the code (the installed package and the example DAGs).

Plan DAGs reach the dag-processor and the workers through the DB (`PlanFilesBundle`); task logs
are read from each worker's log server (port 8793 on its own address); results are XComs.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from taskcenter.launcher.components import AirflowStack, Component, airflow_command, mail_catcher
from taskcenter.launcher.demo import postgres_connection
from taskcenter.launcher.home import (
    _SECRETS,
    EXAMPLES_BUNDLE,
    LOCAL_BUNDLE,
    PLAN_PROCESSOR,
    PLANS_BUNDLE,
    HomeSettings,
    _build_config,
    _new_secret,
    component_environ,
)
from taskcenter.launcher.network import DEFAULT_SUBNET, Host, Network, exec_prefix

MOUNT_POINT = "/srv/taskcenter"  # where every host finds its own disk
API_PORT = 8080  # the api-server's port on its own address
BROKER_PORT = 6379
DB_PORT = 5432
SMTP_PORT = 1025
PLAN_FILES_CONN = "taskcenter_metadata"  # the connection a worker's task reads the plans' files through
PLAN_FILES_BUNDLE = "taskcenter.adapters.airflow.plan_bundle.PlanFilesBundle"
WORKER_CONCURRENCY = 4


def host_names(*, schedulers: int, workers: int) -> tuple[str, ...]:
    return (
        "api-server",
        *(f"scheduler-{n}" for n in range(1, schedulers + 1)),
        "dag-processor",
        "triggerer",
        *(f"worker-{n}" for n in range(1, workers + 1)),
    )


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    root: Path  # one folder per host under `hosts/`, the launcher's logs, the admin password
    db_url: str  # the metadata DB as the launcher reaches it (a PostgreSQL URL with host and port)
    broker_url: str  # Redis as the launcher reaches it
    port: int = 8080  # where the api-server answers on this machine (127.0.0.1)
    smtp_port: int = 1025  # the demo's mail catcher on 127.0.0.1
    schedulers: int = 2
    workers: int = 2
    prefix: str = "tc"
    subnet: IPv4Network = DEFAULT_SUBNET
    examples_dir: Path | None = None
    plugins_dir: Path | None = None
    extra: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def network(self) -> Network:
        names = host_names(schedulers=self.schedulers, workers=self.workers)
        return Network(host_names=names, prefix=self.prefix, subnet=self.subnet)

    def folder(self, host: str) -> Path:
        """The host's own disk (bound at MOUNT_POINT for its programs)."""
        return self.root / "hosts" / host

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def on_hosts(self, url: str, *, port: int) -> str:
        """`url` as the hosts reach it: the forwarder on the bridge address."""
        return make_url(url).set(host=str(self.network.gateway), port=port).render_as_string(hide_password=False)

    @property
    def engine_url(self) -> str:
        """The demo's dataset engine: a database of its own beside the metadata DB."""
        return (
            make_url(self.db_url)
            .set(database=f"{make_url(self.db_url).database}_engine")
            .render_as_string(hide_password=False)
        )


def target_of(url: str, *, default_port: int) -> tuple[str, int]:
    """Where a forwarder sends what hosts send to the bridge address: the URL's host and port."""
    parsed: URL = make_url(url)
    if not parsed.host:
        raise ValueError(f"{parsed.render_as_string()}: the cluster needs a host and port, not a socket")
    return parsed.host, parsed.port or default_port


def secrets_of(root: Path) -> dict[tuple[str, str], str]:
    """The secrets every host shares (fernet key, API secret, JWT secret), made on the first start."""
    path = root / "secrets.json"
    if path.exists():
        raw = json.loads(path.read_text())
        kept: dict[tuple[str, str], str] = {}
        for name, value in raw.items():
            section, _, key = name.partition(".")
            kept[(section, key)] = value
        return kept
    kept = {(section, key): _new_secret(section, key) for section, key in _SECRETS}
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({f"{s}.{k}": v for (s, k), v in kept.items()}))
    path.chmod(0o600)
    return kept


def host_config(settings: ClusterSettings, kept: dict[tuple[str, str], str]) -> str:
    """The airflow.cfg of every host (the same file; each host's own disk holds its copy)."""
    host_db = settings.on_hosts(settings.db_url, port=DB_PORT)
    home = HomeSettings(
        home=Path(MOUNT_POINT),
        port=API_PORT,
        host="0.0.0.0",
        db_url=host_db,
        examples_dir=settings.examples_dir,
        plugins_dir=settings.plugins_dir,
        smtp_port=SMTP_PORT,
    )
    bundles: list[dict[str, object]] = [
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
        {
            "name": PLANS_BUNDLE,
            "classpath": PLAN_FILES_BUNDLE,
            "kwargs": {"path": f"{MOUNT_POINT}/plans", "conn_id": PLAN_FILES_CONN},
        },
    ]
    if settings.examples_dir is not None:
        path = str(settings.examples_dir.resolve())
        bundles.append(
            {"name": EXAMPLES_BUNDLE, "classpath": LOCAL_BUNDLE, "kwargs": {"path": path, "refresh_interval": 30}}
        )
    config = _build_config(home, kept)
    overrides = {
        "core": {
            "executor": "CeleryExecutor",
            "execution_api_server_url": f"http://api-server:{API_PORT}/execution/",
        },
        "api": {"base_url": settings.base_url},
        "celery": {
            "broker_url": settings.on_hosts(settings.broker_url, port=BROKER_PORT),
            "result_backend": "db+" + host_db,
            "worker_concurrency": str(WORKER_CONCURRENCY),
        },
        "dag_processor": {"dag_bundle_config_list": json.dumps(bundles)},
        **settings.extra,
    }
    for section, options in overrides.items():
        if not config.has_section(section):
            config.add_section(section)
        for key, value in options.items():
            config.set(section, key, value)
    text = io.StringIO()
    config.write(text)
    return "# Written by `taskcenter run-cluster` for every host; replaced on each start.\n" + text.getvalue()


def prepare_hosts(settings: ClusterSettings) -> None:
    """Each host's disk: AIRFLOW_HOME's folders and its airflow.cfg (mode 600: it holds secrets)."""
    content = host_config(settings, secrets_of(settings.root))
    for host in settings.network.hosts:
        folder = settings.folder(host.name)
        for sub in ("dags", "plans", "logs"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        config = folder / "airflow.cfg"
        config.touch(mode=0o600, exist_ok=True)
        config.write_text(content)
    Path(MOUNT_POINT).mkdir(parents=True, exist_ok=True)  # the mount point itself stays empty


def host_environ(settings: ClusterSettings, base: dict[str, str]) -> dict[str, str]:
    """The environment of every program on a host: its AIRFLOW_HOME, and the connection its tasks
    read the plans' files through (a task process may not use Airflow's DB session)."""
    env = {k: v for k, v in base.items() if not k.startswith("AIRFLOW__")}
    conn = postgres_connection(settings.on_hosts(settings.db_url, port=DB_PORT))
    env.update(
        AIRFLOW_HOME=MOUNT_POINT,
        AIRFLOW_CONFIG=f"{MOUNT_POINT}/airflow.cfg",
        **{f"AIRFLOW_CONN_{PLAN_FILES_CONN.upper()}": json.dumps(conn)},
    )
    return env


def on_host(settings: ClusterSettings, host: Host, command: list[str]) -> list[str]:
    """`command` run on `host`: in its namespaces, with its own disk at MOUNT_POINT."""
    return [*exec_prefix(host, disk=(settings.folder(host.name).resolve(), MOUNT_POINT)), *command]


def host_components(settings: ClusterSettings) -> list[Component]:
    """Every program of the cluster, each on its host; the schedulers are started last."""
    network = settings.network
    host_env = host_environ(settings, {})
    components: list[Component] = []

    def add(name: str, host: str, command: list[str], environ: dict[str, str] | None = None) -> None:
        components.append(
            Component(
                name=name,
                command=on_host(settings, network.host(host), command),
                log_file=settings.log_dir / f"{name}.log",
                environ={**host_env, **(environ or {})},
            )
        )

    add("api-server", "api-server", airflow_command("api-server", "--port", str(API_PORT), "--host", "0.0.0.0"))
    others = ["dags-folder", *([EXAMPLES_BUNDLE] if settings.examples_dir is not None else [])]
    add("dag-processor", "dag-processor", airflow_command("dag-processor", *_bundle_args(others)))
    plan_processor = [sys.executable, "-m", "taskcenter.cli.main", "plan-processor", "--bundle-name", PLANS_BUNDLE]
    add(PLAN_PROCESSOR, "dag-processor", plan_processor, component_environ(PLAN_PROCESSOR))
    add("triggerer", "triggerer", airflow_command("triggerer"))
    for n in range(1, settings.workers + 1):
        name = f"worker-{n}"
        add(name, name, airflow_command("celery", "worker", "--celery-hostname", f"{name}@{name}"))
    for n in range(1, settings.schedulers + 1):
        add(f"scheduler-{n}", f"scheduler-{n}", airflow_command("scheduler"))
    return components


def _bundle_args(names: list[str]) -> list[str]:
    return [arg for name in names for arg in ("--bundle-name", name)]


def host_step(settings: ClusterSettings, host: str, command: list[str], *, what: str, log_file: Path) -> None:
    """A one-off set-up command on a host (migrate, reconcile, demo); fails loudly, naming its log."""
    from taskcenter.launcher.components import StartupError

    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = host_environ(settings, dict(os.environ))
    with log_file.open("ab") as log:
        done = subprocess.run(
            on_host(settings, settings.network.host(host), command),
            env=env,
            cwd=settings.root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        raise StartupError(f"{what} on {host} failed (exit {done.returncode}); see {log_file}")


def ensure_databases(settings: ClusterSettings) -> None:
    """The metadata DB and the demo's engine DB on the PostgreSQL server (created when missing)."""
    import sqlalchemy as sa

    server = make_url(settings.db_url).set(database="postgres")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            for url in (settings.db_url, settings.engine_url):
                name = make_url(url).database
                exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
                if not exists:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


@dataclass
class ClusterStack(AirflowStack):
    """The cluster's programs, supervised and stopped as `AirflowStack` does for one home."""

    cluster: ClusterSettings | None = None

    def start(self) -> None:
        cluster = self.cluster
        assert cluster is not None
        self.components = [
            *host_components(cluster),
            mail_catcher(port=cluster.smtp_port, outbox=cluster.root / "outbox", log_dir=self.log_dir),
        ]
        self.start_in_order(later=[c for c in self.components if c.name.startswith("scheduler-")], cwd=cluster.root)


def cluster_stack(settings: ClusterSettings) -> ClusterStack:
    return ClusterStack(settings=HomeSettings(home=settings.root, port=settings.port), cluster=settings)
