from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from taskcenter.launcher.demo import DemoPaths, create_demo_source, demo_connections


def test_demo_source_is_created_once_with_deterministic_rows(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "source.db"
    assert create_demo_source(path) is True
    with sqlite3.connect(path) as db:
        first = db.execute("SELECT * FROM orders ORDER BY id").fetchall()
        db.execute("DELETE FROM orders WHERE id > 200")
    assert len(first) == 240
    assert create_demo_source(path) is False  # kept as the user left it
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 200
        assert db.execute("SELECT COUNT(DISTINCT city) FROM customers").fetchone()[0] == 6
    again = tmp_path / "again.db"
    create_demo_source(again)
    with sqlite3.connect(again) as db:
        assert db.execute("SELECT * FROM orders ORDER BY id").fetchall() == first


def test_demo_connections_point_at_the_home(tmp_path: Path) -> None:
    paths = DemoPaths(home=tmp_path)
    connections = demo_connections(paths, smtp_port=2525)
    assert connections["taskcenter_demo_source"]["host"] == str(tmp_path / "taskcenter" / "demo" / "source.db")
    assert connections["taskcenter_engine"]["host"] == str(tmp_path / "taskcenter" / "engine.db")
    smtp = connections["taskcenter_smtp"]
    assert (smtp["host"], smtp["port"]) == ("127.0.0.1", 2525)
    assert json.loads(str(smtp["extra"]))["disable_ssl"] is True
    assert paths.outbox == tmp_path / "outbox"
