from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow.dag_processing.manager import DagFileInfo

from taskcenter.adapters.airflow.plan_processor import parsed_since_written


def _file(folder: Path, name: str, *, written: datetime) -> DagFileInfo:
    path = folder / name
    path.write_text("dag = None\n")
    os.utime(path, (written.timestamp(), written.timestamp()))
    return DagFileInfo(rel_path=Path(name), bundle_name="taskcenter-plans", bundle_path=folder)


def test_only_files_parsed_since_their_last_write_are_adopted(tmp_path: Path) -> None:
    now = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)
    unchanged = _file(tmp_path, "plan_1.py", written=now - timedelta(hours=1))
    rewritten = _file(tmp_path, "plan_2.py", written=now)
    never_parsed = _file(tmp_path, "plan_3.py", written=now - timedelta(hours=1))
    failed = _file(tmp_path, "plan_4.py", written=now - timedelta(hours=1))
    gone = DagFileInfo(rel_path=Path("plan_5.py"), bundle_name="taskcenter-plans", bundle_path=tmp_path)
    last_parsed = {
        "plan_1.py": now - timedelta(minutes=30),
        "plan_2.py": now - timedelta(minutes=30),  # parsed before its last write: parse again
        "plan_4.py": now - timedelta(minutes=30),
        "plan_5.py": now,
    }
    adopted = parsed_since_written(
        [unchanged, rewritten, never_parsed, failed, gone], last_parsed=last_parsed, failed={"plan_4.py"}
    )
    assert adopted == {unchanged: now - timedelta(minutes=30)}
