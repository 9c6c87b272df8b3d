"""The admin user of the embedded default, with no fixed default password.

The password is `TASKCENTER_ADMIN_PASSWORD` when set (and then always applied), else one generated on
the first run, printed once and kept in `<home>/admin-password` (mode 600).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@taskcenter.invalid"
PASSWORD_ENV = "TASKCENTER_ADMIN_PASSWORD"


@dataclass(frozen=True, kw_only=True)
class AdminCredentials:
    username: str
    password: str
    generated: bool


def resolve_password(home: Path) -> AdminCredentials:
    if password := os.environ.get(PASSWORD_ENV):
        return AdminCredentials(username=ADMIN_USERNAME, password=password, generated=False)
    path = home / "admin-password"
    if path.exists():
        return AdminCredentials(username=ADMIN_USERNAME, password=path.read_text().strip(), generated=False)
    password = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return AdminCredentials(username=ADMIN_USERNAME, password=password, generated=True)


def ensure_admin(
    *,
    env: dict[str, str],
    cwd: Path,
    credentials: AdminCredentials,
    log_file: Path | None = None,
    prefix: Sequence[str] = (),
) -> None:
    """Create the admin (role Admin) or set its password, in a process configured for the home.

    The password travels in the environment, never on a command line that `ps` would show.
    `prefix`: runs it on a cluster's host (`network.exec_prefix`).
    """
    child_env = dict(env, **{PASSWORD_ENV: credentials.password})
    command = [*prefix, sys.executable, "-m", "taskcenter.launcher.admin", credentials.username]
    if log_file is None:
        subprocess.run(command, env=child_env, cwd=cwd, check=True)
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        result = subprocess.run(command, env=child_env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f"creating the admin user failed (exit {result.returncode}); see {log_file}")


def _apply(username: str) -> None:
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    password = os.environ[PASSWORD_ENV]
    with get_application_builder() as appbuilder:
        security = appbuilder.sm
        role = security.find_role("Admin")
        if role is None:
            raise SystemExit("FAB role 'Admin' is missing: did `airflow db migrate` run?")
        user = security.find_user(username=username)
        if user is None:
            if not security.add_user(username, "Task", "Center", ADMIN_EMAIL, role, password):
                raise SystemExit(f"could not create user {username!r}")
        elif not security.check_password(username, password):
            security.reset_password(user.id, password)


if __name__ == "__main__":
    _apply(sys.argv[1])
