from __future__ import annotations

import subprocess
import sys


def test_stdin_mode_answers_one_line_per_line() -> None:
    stdin = "0 0 12 * * ?\tUTC\t2025-01-01T00:00:00+00:00\t1\n\nbad\tUTC\t2025-01-01T00:00:00+00:00\t1\n"
    result = subprocess.run(
        [sys.executable, "-m", "taskcenter.cli.main", "cron", "next"],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "2025-01-01T12:00:00+00:00"
    assert lines[1] == ""
    assert lines[2].startswith("INVALID: ")
    assert len(lines) == 3
