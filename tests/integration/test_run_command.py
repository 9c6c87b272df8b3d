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


def _interrupt_and_check_all_stopped(process: subprocess.Popen[bytes]) -> None:
    # The components (own sessions) and the task/log-server processes they started.
    descendants = psutil.Process(process.pid).children(recursive=True)
    assert len(descendants) >= 4, "expected at least the four components"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    _gone, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, f"still running after Ctrl-C: {[p.pid for p in alive]}"


def test_run_starts_everything_stops_on_ctrl_c_and_keeps_data(tmp_path: Path) -> None:
    home, log, port = tmp_path / "home", tmp_path / "run.log", free_port()
    process = _start(home, port, log)
    try:
        _wait_ready(process, log)
        password = (home / "admin-password").read_text().strip()
        assert password in log.read_text(), "a generated password is printed once"
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/api/schedules", timeout=30).status_code == 401
        token = requests.post(f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=30).json()["access_token"]
        body = requests.get(f"{base}/api/schedules", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        assert body["code"] == 0 and body["data"] == []
        _interrupt_and_check_all_stopped(process)
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
        _interrupt_and_check_all_stopped(process)
    finally:
        if process.poll() is None:
            process.kill()
