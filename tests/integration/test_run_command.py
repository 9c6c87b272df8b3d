"""`taskcenter run` (what `make run` calls): starts the product, restarts what dies, Ctrl-C and
SIGTERM stop it all, data is kept, and a home made on SQLite moves to the embedded PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from taskcenter.launcher.admin import PASSWORD_ENV
from tests.integration.harness import REPO, free_port


def _start(home: Path, port: int, log: Path, *options: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV and not k.startswith("AIRFLOW__")}
    env["TASKCENTER_PORT"] = str(port)
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "taskcenter.cli.main",
                "run",
                "--home",
                str(home),
                "--examples-dir",
                str(REPO / "dags"),
                "--set",
                f"logging.worker_log_server_port={free_port()}",
                "--set",
                f"logging.trigger_log_server_port={free_port()}",
                "--smtp-port",
                str(free_port()),
                *options,
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=home.parent,
        )


def _wait_ready(process: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "taskcenter: ready on" in log.read_text(errors="replace"):
            return
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    raise AssertionError("not ready in time:\n" + log.read_text(errors="replace")[-3000:])


def _stop_and_check_all_stopped(process: subprocess.Popen[bytes], log: Path, signum: int = signal.SIGINT) -> None:
    # The components (own sessions), the PostgreSQL server and the processes they started.
    descendants = psutil.Process(process.pid).children(recursive=True)
    assert len(descendants) >= 5, "expected at least the database and the four components"
    process.send_signal(signum)
    assert process.wait(timeout=60) == 0
    _gone, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, f"still running after {signal.Signals(signum).name}: {[p.pid for p in alive]}"
    assert "Traceback" not in log.read_text(errors="replace")


def _component(process: subprocess.Popen[bytes], name: str) -> psutil.Process:
    for child in psutil.Process(process.pid).children():
        if name in " ".join(child.cmdline()):
            return child
    raise AssertionError(f"no {name} process")


def _wait_for(log: Path, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} not in the console:\n" + log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)


def _run_now(base: str, headers: dict[str, str], entity_key: str) -> int:
    plan = {"entityGroup": "NOTEBOOK", "entityKey": entity_key, "planItems": [{"triggerType": "ONCE"}], "sync": True}
    answer = requests.post(f"{base}/api/schedules", json=plan, headers=headers, timeout=120).json()
    assert answer["code"] == 0, answer
    run = requests.get(f"{base}/api/contexts/{answer['data']['contextId']}", headers=headers, timeout=30).json()
    assert run["data"]["jobStatus"] == "SUCCESSFUL", run
    return answer["data"]["contextId"]


def test_run_moves_a_sqlite_home_restarts_what_dies_and_stops_on_signals(home_dir: Path) -> None:
    tmp_path = home_dir
    home, log, port = tmp_path / "home", tmp_path / "run.log", free_port()
    base = f"http://127.0.0.1:{port}"
    # A home on SQLite, as every home was before the embedded PostgreSQL server.
    process = _start(home, port, log, "--database", "sqlite")
    try:
        _wait_ready(process, log)
        password = (home / "admin-password").read_text().strip()
        assert password in log.read_text(), "a generated password is printed once"
        assert "SQLite" in log.read_text()
        assert requests.get(f"{base}/api/schedules", timeout=30).status_code == 401
        token = requests.post(
            f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=30
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{base}/api/schedules", headers=headers, timeout=30).json()["data"] == []
        cron = {
            "entityGroup": "NOTEBOOK",
            "entityKey": "1",
            "planItems": [
                {"triggerType": "CRON_JOB", "cronDesc": "0 15 0 ? * 1", "cronType": "WEEKLY", "timeZone": "GMT+08:00"}
            ],
        }
        kept = requests.post(f"{base}/api/schedules", json=cron, headers=headers, timeout=60).json()["data"]
        context_id = _run_now(base, headers, "1")
        gone = requests.post(
            f"{base}/api/schedules", json={**cron, "entityKey": "2"}, headers=headers, timeout=60
        ).json()["data"]
        assert requests.delete(f"{base}/api/schedules/{gone['id']}", headers=headers, timeout=60).json()["code"] == 0
        logs = requests.get(f"{base}/api/contexts/{context_id}/logs", headers=headers, timeout=60).json()["data"]
        _stop_and_check_all_stopped(process, log)
    finally:
        if process.poll() is None:
            process.kill()

    # The new version's default: the home moves to the embedded PostgreSQL server, nothing lost.
    second_log = tmp_path / "run2.log"
    process = _start(home, port, second_log)
    try:
        _wait_ready(process, second_log)
        console = second_log.read_text()
        assert "moved" in console and "to PostgreSQL" in console and "embedded PostgreSQL" in console
        assert not (home / "airflow.db").exists() and list(home.glob("airflow.db.moved-*")), (
            "SQLite file kept as a backup"
        )
        assert password not in console, "the password is printed only when generated"
        headers = {"Authorization": f"Bearer {token}"}  # the token of the first start still holds
        plans = requests.get(f"{base}/api/schedules", headers=headers, timeout=30).json()["data"]
        assert [(p["id"], p["entityKey"], p["planItems"][0]["cronDesc"]) for p in plans] == [
            (kept["id"], "1", "0 15 0 ? * 1")
        ]
        context = requests.get(f"{base}/api/contexts/{context_id}", headers=headers, timeout=30).json()["data"]
        assert context["jobStatus"] == "SUCCESSFUL"
        assert (
            requests.get(f"{base}/api/contexts/{context_id}/logs", headers=headers, timeout=60).json()["data"] == logs
        )
        postgres = _component(process, "postgres")
        assert postgres.username() == ("taskcenter-pg" if os.geteuid() == 0 else psutil.Process().username())

        # kill -9 of a component: the supervisor says why it stopped and starts it again.
        _component(process, "scheduler").kill()
        _wait_for(second_log, "scheduler stopped (killed by SIGKILL)")
        _wait_for(second_log, "scheduler started again (restart 1)")
        _run_now(base, headers, "1")
        new = requests.post(
            f"{base}/api/schedules", json={**cron, "entityGroup": "PIPELINE"}, headers=headers, timeout=60
        ).json()
        assert new["data"]["id"] > gone["id"], ("a deleted plan's id is not given out again after the move", new)
        _stop_and_check_all_stopped(process, second_log, signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
