from __future__ import annotations

import email
import email.policy
import io
import json
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from taskcenter.adapters.jobs import chromium
from taskcenter.adapters.jobs.app_email import run
from taskcenter.adapters.jobs.base import JobRun
from taskcenter.launcher.mail_catcher import MailCatcher
from tests.unit.adapters.jobs.fakes import app_job

JOB_CLASS = "com.hengshi.nangaparbat.schedulejob.AppEmailJob"


def _job(
    tmp_path: Path, definition: dict[str, Any], options: dict[str, str] | None = None
) -> tuple[JobRun, list[tuple[str, Any]]]:
    return app_job(tmp_path, group="APP_EMAIL", job_class=JOB_CLASS, definition=definition, options=options)


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(host="127.0.0.1", port=0, outbox=tmp_path / "outbox") as running:
        yield running


def _smtp_conn(monkeypatch: pytest.MonkeyPatch, port: int, **extra: Any) -> None:
    extra = {"disable_ssl": True, "disable_tls": True, "retry_limit": 0, "timeout": 10, **extra}
    monkeypatch.setenv(
        "AIRFLOW_CONN_TASKCENTER_SMTP",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra}),
    )


def _only_message(outbox: Path) -> tuple[bytes, EmailMessage]:
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 1, files
    raw = files[0].read_bytes()
    return raw, email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def _attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def test_mails_the_report_with_its_screenshot(
    tmp_path: Path, sections: list[Any], catcher: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    _smtp_conn(monkeypatch, catcher.port, from_email="reports@example.com")
    definition = {
        "recipients": ["bi-team@example.com", "boss@example.com"],
        "subject": "app1 weekly",
        "width": 800,
        "height": 500,
    }
    job, published = _job(tmp_path, definition)
    run(job)

    raw, message = _only_message(catcher.outbox)
    assert message["Subject"] == "app1 weekly"
    assert message["From"] == "reports@example.com"
    assert message["To"] == "bi-team@example.com, boss@example.com"
    assert message["X-Envelope-To"] == "<bi-team@example.com>, <boss@example.com>"
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    html = body.get_content()
    assert (
        "<h2>orders</h2>" in html and "Widget &lt;XL&gt;" in html and "<h2>customers</h2>" in html and "Lhasa" in html
    )
    assert "cid:" not in html  # a picture of the report itself is attached, not repeated inline

    attachments = _attachments(message)
    assert sorted(attachments) == ["app-1-report.html", "app-1.png"]
    with Image.open(io.BytesIO(attachments["app-1.png"])) as image:
        image.load()
        assert image.format == "PNG" and image.size == (800, 500)
    assert b"<h2>orders</h2>" in attachments["app-1-report.html"]

    size = sum((tmp_path / "out" / name).stat().st_size for name in ("app-1.png", "app-1-report.html"))
    assert published == [
        (
            "1",
            {
                "schema": [{"name": c, "title": c} for c in ("recipients", "subject", "attachments", "bytes")],
                "data": [
                    ["bi-team@example.com, boss@example.com", "app1 weekly", "app-1.png, app-1-report.html", size]
                ],
            },
        )
    ]
    assert any("mailed 'app1 weekly'" in m for m in job.log.lines("1"))


def test_dashboard_url_goes_inline_and_defaults_apply(
    tmp_path: Path, sections: list[Any], catcher: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    _smtp_conn(monkeypatch, catcher.port)
    dashboard = tmp_path / "dashboard.html"
    dashboard.write_text("<html><body style='background:#0a0'>dashboard</body></html>")
    job, published = _job(
        tmp_path,
        {"recipients": ["bi-team@example.com"], "url": dashboard.as_uri(), "width": 300, "height": 200},
        options={"email_from": "taskcenter@example.org"},
    )
    run(job)
    _, message = _only_message(catcher.outbox)
    assert message["Subject"] == "app1 report"
    assert message["From"] == "taskcenter@example.org"
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert 'src="cid:app-1.png"' in html and "<h2>orders</h2>" in html
    png = next(p for p in message.iter_attachments() if p.get_filename() == "app-1.png")
    assert png["Content-ID"] == "<app-1.png>"
    assert chromium.png_size(tmp_path / "out" / "app-1.png") == (300, 200)


def test_unreachable_mail_server_says_where_and_how(
    tmp_path: Path, sections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_TASKCENTER_SMTP",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": closed, "extra": {"retry_limit": 0}}),
    )
    job, published = _job(tmp_path, {"recipients": ["a@example.com"], "width": 200, "height": 100})
    with pytest.raises(RuntimeError, match=f"'taskcenter_smtp' \\(127.0.0.1:{closed}\\) failed") as caught:
        run(job)
    assert "disable_ssl and disable_tls" in str(caught.value)
    assert published == []
