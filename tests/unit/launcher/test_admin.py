from __future__ import annotations

import stat
from pathlib import Path

from taskcenter.launcher.admin import PASSWORD_ENV, resolve_password


def test_password_is_generated_once_and_kept_private(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    first = resolve_password(tmp_path)
    assert first.generated and len(first.password) >= 16
    path = tmp_path / "admin-password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = resolve_password(tmp_path)
    assert not second.generated
    assert second.password == first.password


def test_generated_passwords_differ_between_homes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert resolve_password(tmp_path / "a").password != resolve_password(tmp_path / "b").password


def test_environment_password_wins_and_is_not_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "from-the-environment")
    credentials = resolve_password(tmp_path)
    assert credentials.password == "from-the-environment"
    assert not credentials.generated
    assert not (tmp_path / "admin-password").exists()
