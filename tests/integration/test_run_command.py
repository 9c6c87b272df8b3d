"""`taskcenter run` (what `make run` calls): starts the product, Ctrl-C stops it all, data is kept."""

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


def _start(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV and not k.startswith("AIRFLOW__")}
    env["TASKCENTER_PORT"] = str(port)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "taskcenter.cli.main", "run", "--home", str(home), "--examples-dir", str(REPO / "dags"),
             "--set", f"logging.worker_log_server_port={free_port()}", "--set", f"logging.trigger_log_server_port={free_port()}"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home.parent,
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


def test_run_starts_everything_restarts_what_dies_stops_on_ctrl_c_and_keeps_data(tmp_path: Path) -> None:
    home, log, port = tmp_path / "home", tmp_path / "run.log", free_port()
    process = _start(home, port, log)
    try:
        _wait_ready(process, log)
        password = (home / "admin-password").read_text().strip()
        assert password in log.read_text(), "a generated password is printed once"
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/api/schedules", timeout=30).status_code == 401
        token = requests.post(f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=30).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        body = requests.get(f"{base}/api/schedules", headers=headers, timeout=30).json()
        assert body["code"] == 0 and body["data"] == []
        assert "embedded PostgreSQL" in log.read_text()
        postgres = _component(process, "postgres")
        assert postgres.username() == ("taskcenter-pg" if os.geteuid() == 0 else psutil.Process().username())

        # kill -9 of a component: the supervisor says why it stopped and starts it again.
        _component(process, "scheduler").kill()
        _wait_for(log, "scheduler stopped (killed by SIGKILL)")
        _wait_for(log, "scheduler started again (restart 1)")
        plan = {"entityGroup": "NOTEBOOK", "entityKey": "1", "planItems": [{"triggerType": "ONCE"}], "sync": True}
        answer = requests.post(f"{base}/api/schedules", json=plan, headers=headers, timeout=120).json()
        assert answer["code"] == 0, answer
        run = requests.get(f"{base}/api/contexts/{answer['data']['contextId']}", headers=headers, timeout=30).json()
        assert run["data"]["jobStatus"] == "SUCCESSFUL", run
        _stop_and_check_all_stopped(process, log)
    finally:
        if process.poll() is None:
            process.kill()

    second_log = tmp_path / "run2.log"
    process = _start(home, port, second_log)
    try:
        _wait_ready(process, second_log)
        assert (home / "admin-password").read_text().strip() == password
        assert password not in second_log.read_text(), "the password is printed only when generated"
        response = requests.post(f"http://127.0.0.1:{port}/auth/token", json={"username": "admin", "password": password}, timeout=30)
        assert response.status_code == 201
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        plans = requests.get(f"http://127.0.0.1:{port}/api/schedules", headers=headers, timeout=30).json()
        assert [p["entityKey"] for p in plans["data"]] == ["1"], "the plan of the first start is kept"
        _stop_and_check_all_stopped(process, second_log, signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
