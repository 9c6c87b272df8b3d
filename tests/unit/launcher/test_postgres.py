"""The embedded PostgreSQL server's layout and start command (the server itself runs in the
integration tests, which start every backend through the launcher)."""

from __future__ import annotations

from pathlib import Path

from taskcenter.launcher.postgres import EmbeddedPostgres, binaries


def test_the_wheel_carries_the_server_programs() -> None:
    for program in ("initdb", "postgres"):
        assert (binaries() / program).is_file()


def test_url_goes_through_the_socket_folder(tmp_path: Path) -> None:
    server = EmbeddedPostgres(root=tmp_path / "pg")
    assert server.socket_dir == tmp_path / "pg" / "run"
    assert server.url() == f"postgresql+psycopg2://postgres@/airflow?host={(tmp_path / 'pg' / 'run').resolve()}"
    assert server.url("taskcenter_engine", driver="postgresql").startswith("postgresql://postgres@/taskcenter_engine?host=")


def test_a_long_home_path_puts_the_socket_in_a_short_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    server = EmbeddedPostgres(root=deep)
    socket_file = server.socket_dir / ".s.PGSQL.5432"
    assert len(str(socket_file)) <= 107
    assert server.socket_dir != EmbeddedPostgres(root=tmp_path / "other" / ("y" * 120)).socket_dir


def test_the_server_listens_on_no_tcp_port(tmp_path: Path) -> None:
    command = EmbeddedPostgres(root=tmp_path).command()
    assert command[0].endswith("/postgres")
    assert "--listen-addresses=" in command
    assert any(part.startswith("--max-connections=") for part in command)
