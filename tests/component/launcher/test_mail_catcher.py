from __future__ import annotations

import re
import signal
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from taskcenter.launcher.mail_catcher import MailCatcher

NAME = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{32}\.eml")


def test_keeps_each_message_as_received(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    raw = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: one\r\n\r\nline one\r\n.dot line\r\n"
    with MailCatcher(host="127.0.0.1", port=0, outbox=outbox) as catcher:
        assert catcher.port > 0
        with smtplib.SMTP("127.0.0.1", catcher.port, timeout=10) as client:
            refused = client.sendmail("a@example.com", ["b@example.com", "hidden@example.com"], raw)
            assert refused == {}
            client.sendmail("a@example.com", ["c@example.com"], b"Subject: two\r\n\r\nsecond\r\n")
    files = sorted(outbox.iterdir())
    assert len(files) == 2 and all(NAME.fullmatch(f.name) for f in files)  # no temporary files left behind
    first = next(f.read_bytes() for f in files if b"Subject: one" in f.read_bytes())
    assert (
        first == b"X-Envelope-From: <a@example.com>\r\nX-Envelope-To: <b@example.com>, <hidden@example.com>\r\n" + raw
    )


def test_accepts_utf8_and_8bit_mail(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "taskcenter@localhost"
    message["To"] = "用户@example.com"
    message["Subject"] = "报表 ✓"
    message.set_content("数据 ✓", cte="8bit")
    with MailCatcher(host="127.0.0.1", port=0, outbox=tmp_path) as catcher:
        with smtplib.SMTP("127.0.0.1", catcher.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("smtputf8") and client.has_extn("8bitmime")
            client.send_message(message, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    (kept,) = tmp_path.glob("*.eml")
    data = kept.read_bytes()
    assert "X-Envelope-To: <用户@example.com>".encode() in data and "数据 ✓".encode() in data


def test_a_busy_port_is_an_error(tmp_path: Path) -> None:
    with MailCatcher(host="127.0.0.1", port=0, outbox=tmp_path) as first:
        with pytest.raises(OSError):
            MailCatcher(host="127.0.0.1", port=first.port, outbox=tmp_path).start()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_command_line_runs_until_told_to_stop(tmp_path: Path, stop: signal.Signals) -> None:
    outbox = tmp_path / "outbox"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taskcenter.launcher.mail_catcher",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--outbox",
            str(outbox),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"listening on smtp://127\.0\.0\.1:(\d+)", line)
        assert found, line
        with smtplib.SMTP("127.0.0.1", int(found.group(1)), timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: cli\r\n\r\nbody\r\n")
        process.send_signal(stop)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out == ""  # the one "listening" line was the only output
    (kept,) = outbox.glob("*.eml")
    assert kept.read_bytes().endswith(b"Subject: cli\r\n\r\nbody\r\n")
    assert "kept a message" in err
