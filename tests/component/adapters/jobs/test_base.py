from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from taskcenter.adapters.jobs.base import ChildProcesses
from tests.unit.adapters.jobs.fakes import bare_job


def _group_gone(pgid: int) -> bool:
    """No live member left (orphaned zombies wait for init to reap them, which can take seconds)."""
    listing = subprocess.run(["ps", "-eo", "pgid=,stat="], capture_output=True, text=True, check=True).stdout
    return all(
        state.startswith("Z") for group, state in (line.split() for line in listing.splitlines()) if int(group) == pgid
    )


def test_terminate_kills_a_whole_session_that_ignores_sigterm_after_the_grace() -> None:
    # A shell and its child `sleep`, both ignoring SIGTERM, in a session of their own (as Chromium
    # and its helpers are): SIGTERM first, SIGKILL to the whole group after the grace.
    leader = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 60 & wait"], start_new_session=True)
    processes = ChildProcesses()
    processes.add(leader)
    time.sleep(0.2)  # let the shell start its child
    started = time.monotonic()
    assert processes.terminate(grace=0.3) == [leader.pid]
    assert time.monotonic() - started < 3
    assert leader.poll() == -signal.SIGKILL
    assert _group_gone(leader.pid)
    assert processes.pids() == [] and processes.terminate() == []


def test_terminate_signals_a_child_of_the_tasks_own_group_alone() -> None:
    # Never killpg the task's own group (that would kill the task itself).
    child = subprocess.Popen(["sleep", "60"])
    processes = ChildProcesses()
    processes.add(child)
    assert processes.terminate() == [child.pid]
    assert child.poll() == -signal.SIGTERM


def test_a_reaped_process_is_not_signalled_again() -> None:
    done = subprocess.Popen(["true"], start_new_session=True)
    processes = ChildProcesses()
    processes.add(done)
    done.wait()
    assert processes.terminate() == []
    processes.add(done)
    processes.discard(done)
    assert processes.pids() == []


def test_close_stops_what_the_run_left_running(tmp_path: Path) -> None:
    fake = bare_job(tmp_path, entity_group="NOTEBOOK", entity_key="1")
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    fake.job.processes.add(child)
    fake.job.close()
    assert child.poll() == -signal.SIGTERM
