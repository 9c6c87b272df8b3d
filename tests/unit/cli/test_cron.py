from __future__ import annotations

import pytest

from taskcenter.cli.cron import answer_line
from taskcenter.cli.main import main


def test_answer_line_protocol() -> None:
    assert (
        answer_line("0 0 12 * * ?\tUTC\t2025-01-01T00:00:00+00:00\t2")
        == "2025-01-01T12:00:00+00:00,2025-01-02T12:00:00+00:00"
    )
    assert answer_line("0 0 12 1 1 ? 2025\tGMT+8\t2025-01-01T00:00:00+08:00\t3") == "2025-01-01T12:00:00+08:00,END"
    assert answer_line("0 0 12 1 1 ? 2020\tUTC\t2025-01-01T00:00:00+00:00\t1") == "END"
    assert answer_line("0 0 12 * * *\tUTC\t2025-01-01T00:00:00+00:00\t1").startswith("INVALID: day-of-month:")
    assert answer_line("0 0 12 * * ?\tUTC+8\t2025-01-01T00:00:00+00:00\t1").startswith(
        "INVALID: unknown time zone 'UTC+8'"
    )
    assert answer_line("0 0 12 * * ?\tUTC\tyesterday\t1").startswith("INVALID: start 'yesterday'")
    assert answer_line("0 0 12 * * ?\tUTC\t2025-01-01T00:00:00+00:00\t0").startswith("INVALID: n must be")
    assert answer_line("0 0 12 * * ?").startswith("INVALID: expected 4")


@pytest.mark.parametrize(
    "start",
    ["2025-01-01T00:00:00", "2025-01-01", "2025-01-01 00:00:00", "2025-01-01T00:00:00 +00:00", "20250101T000000Z",
     "2025-W01-1T00:00:00+00:00", "2025-01-01T00:00:00+0100", "2025-01-01T00:00:00+18:01", "2025-02-29T00:00:00Z",
     "2025-01-01T00:00:00.1234567891Z", "+2025-01-01T00:00:00Z", "\u0662025-01-01T00:00:00Z"],
)  # fmt: skip
def test_a_start_without_an_offset_or_outside_the_drivers_grammar_is_invalid(start: str) -> None:
    answer = answer_line(f"*/30 * * * * ?\tUTC\t{start}\t1")
    assert answer.startswith(f"INVALID: start {start!r}"), answer


@pytest.mark.parametrize(
    ("start", "first"),
    [
        ("2025-01-01T00:00:00+08:00", "2024-12-31T16:00:30+00:00"),
        ("2025-01-01T00:00:00Z", "2025-01-01T00:00:30+00:00"),
        ("2025-01-01t00:00:00z", "2025-01-01T00:00:30+00:00"),
        ("2025-01-01T00:00Z", "2025-01-01T00:00:30+00:00"),
        ("2025-01-01T00:00:00+01", "2024-12-31T23:00:30+00:00"),
        ("2025-01-01T00:00:00+05:30:30", "2024-12-31T18:30:00+00:00"),
        ("2025-01-01T00:00:29.999999999Z", "2025-01-01T00:00:30+00:00"),
        (" 2025-01-01T00:00:00Z\x0b", "2025-01-01T00:00:30+00:00"),  # trimmed as Java's String.trim()
        ("9999-12-31T23:59:59-01:00", "END"),
    ],
)
def test_starts_the_driver_accepts(start: str, first: str) -> None:
    assert answer_line(f"*/30 * * * * ?\tUTC\t{start}\t1").split(",")[0] == first


@pytest.mark.parametrize("count", ["0", "-1", "+3", "1_0", "\u0663", "3.0", "", "2147483648", "1e3"])
def test_n_must_be_plain_digits_and_at_least_one_as_in_the_driver(count: str) -> None:
    # n=0 is refused, as the Java driver and `-n 0` refuse it: zero fire times would be an empty
    # line, indistinguishable from the answer to an empty input line
    assert answer_line(f"0 0 12 * * ?\tUTC\t2025-01-01T00:00:00Z\t{count}").startswith("INVALID: n must be")


def test_n_is_trimmed_as_in_the_driver() -> None:
    assert (
        answer_line("0 0 12 * * ?\tUTC\t2025-01-01T00:00:00Z\t 2 ")
        == "2025-01-01T12:00:00+00:00,2025-01-02T12:00:00+00:00"
    )
    assert answer_line("0 0 12 * * ?\tUTC\t2025-01-01T00:00:00Z\t007").count(",") == 6


def test_the_zone_is_not_trimmed_a_padded_id_is_unknown() -> None:
    assert answer_line("0 0 12 * * ?\tUTC \t2025-01-01T00:00:00Z\t1").startswith("INVALID: unknown time zone 'UTC '")


def test_expression_mode(capsys) -> None:
    code = main(
        ["cron", "next", "--tz", "America/New_York", "-n", "2", "--after", "2025-03-08T00:00:00-05:00", "0 30 2 * * ?"]
    )
    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["2025-03-08T02:30:00-05:00", "2025-03-10T02:30:00-04:00"]


def test_expression_mode_shows_the_quartz_form_of_a_unix_cron_on_stderr(capsys) -> None:
    assert main(["cron", "next", "--tz", "UTC", "-n", "1", "--after", "2025-01-01T00:00:00Z", "30 9 * * 1-5"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["2025-01-01T09:30:00+00:00"]  # stdout: fire times only
    assert captured.err.splitlines() == ["# as Quartz: 0 30 9 ? * 2-6"]


@pytest.mark.parametrize("count", ["0", "+3", "1_0"])
def test_expression_mode_takes_the_same_n_as_stdin_mode(count: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["cron", "next", "--tz", "UTC", "-n", count, "0 0 12 * * ?"])
    assert exited.value.code == 2
    assert "must be a positive integer" in capsys.readouterr().err


def test_expression_mode_reports_errors_with_exit_code_2(capsys) -> None:
    assert main(["cron", "next", "--tz", "Mars/Base", "0 0 12 * * ?"]) == 2
    assert "unknown time zone 'Mars/Base'" in capsys.readouterr().err
    assert main(["cron", "next", "--tz", "UTC", "0 0 25 * * ?"]) == 2
    assert "hours: values must be between 0 and 23" in capsys.readouterr().err
