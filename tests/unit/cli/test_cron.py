from __future__ import annotations

import subprocess
import sys

from taskcenter.cli.main import main
from taskcenter.cli.cron import answer_line


def test_answer_line_protocol() -> None:
    assert answer_line("0 0 12 * * ?\tUTC\t2025-01-01T00:00:00+00:00\t2") == "2025-01-01T12:00:00+00:00,2025-01-02T12:00:00+00:00"
    assert answer_line("0 0 12 1 1 ? 2025\tGMT+8\t2025-01-01T00:00:00+08:00\t3") == "2025-01-01T12:00:00+08:00,END"
    assert answer_line("0 0 12 1 1 ? 2020\tUTC\t2025-01-01T00:00:00+00:00\t1") == "END"
    assert answer_line("0 0 12 * * *\tUTC\t2025-01-01T00:00:00+00:00\t1").startswith("INVALID: day-of-month:")
    assert answer_line("0 0 12 * * ?\tUTC+8\t2025-01-01T00:00:00+00:00\t1").startswith("INVALID: unknown time zone 'UTC+8'")
    assert answer_line("0 0 12 * * ?\tUTC\tyesterday\t1").startswith("INVALID: start 'yesterday'")
    assert answer_line("0 0 12 * * ?\tUTC\t2025-01-01T00:00:00+00:00\t0").startswith("INVALID: n must be")
    assert answer_line("0 0 12 * * ?").startswith("INVALID: expected 4")


def test_stdin_mode_answers_one_line_per_line() -> None:
    stdin = "0 0 12 * * ?\tUTC\t2025-01-01T00:00:00+00:00\t1\n\nbad\tUTC\t2025-01-01T00:00:00+00:00\t1\n"
    result = subprocess.run(
        [sys.executable, "-m", "taskcenter.cli.main", "cron", "next"], input=stdin, capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "2025-01-01T12:00:00+00:00"
    assert lines[1] == ""
    assert lines[2].startswith("INVALID: ")
    assert len(lines) == 3


def test_expression_mode(capsys) -> None:
    code = main(["cron", "next", "--tz", "America/New_York", "-n", "2", "--after", "2025-03-08T00:00:00-05:00", "0 30 2 * * ?"])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["2025-03-08T02:30:00-05:00", "2025-03-10T02:30:00-04:00"]


def test_expression_mode_shows_the_quartz_form_of_a_unix_cron_on_stderr(capsys) -> None:
    assert main(["cron", "next", "--tz", "UTC", "-n", "1", "--after", "2025-01-01T00:00:00Z", "30 9 * * 1-5"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["2025-01-01T09:30:00+00:00"]  # stdout: fire times only
    assert captured.err.splitlines() == ["# as Quartz: 0 30 9 ? * 2-6"]


def test_expression_mode_reports_errors_with_exit_code_2(capsys) -> None:
    assert main(["cron", "next", "--tz", "Mars/Base", "0 0 12 * * ?"]) == 2
    assert "unknown time zone 'Mars/Base'" in capsys.readouterr().err
    assert main(["cron", "next", "--tz", "UTC", "0 0 25 * * ?"]) == 2
    assert "hours: values must be between 0 and 23" in capsys.readouterr().err
