from __future__ import annotations

import http.server
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taskcenter.adapters.jobs import chromium
from taskcenter.adapters.jobs.base import ChildProcesses, JobRun
from taskcenter.adapters.jobs.screenshot import run
from tests.unit.adapters.jobs.fakes import app_job, stop_once_ready

JOB_CLASS = "com.hengshi.nangaparbat.schedulejob.ScreenshotJob"


def _job(
    tmp_path: Path, definition: dict[str, Any], options: dict[str, str] | None = None
) -> tuple[JobRun, list[tuple[str, Any]]]:
    return app_job(tmp_path, group="SCREENSHOT", job_class=JOB_CLASS, definition=definition, options=options)


def _assert_png(path: Path, size: tuple[int, int]) -> None:
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        assert image.size == size


def test_screenshot_of_the_app_report(tmp_path: Path, sections: list[Any]) -> None:
    job, published = _job(tmp_path, {"width": 640, "height": 400})
    started = time.monotonic()
    assert run(job) is None
    elapsed = time.monotonic() - started

    png = tmp_path / "out" / "app-1.png"
    html = tmp_path / "out" / "app-1-report.html"
    _assert_png(png, (640, 400))
    page = html.read_text(encoding="utf-8")
    assert "<h2>orders</h2>" in page and "Widget &lt;XL&gt;" in page and "<h2>customers</h2>" in page
    assert sections == [1]
    assert published == [
        (
            "1",
            {
                "schema": [{"name": c, "title": c} for c in ("file", "bytes", "width", "height")],
                "data": [[str(png.resolve()), png.stat().st_size, 640, 400]],
            },
        )
    ]
    messages = job.log.lines("1")
    assert any("rendering the report of app 1 (app1) at 640x400" in m for m in messages)
    assert any(str(png.resolve()) in m and "640x400" in m for m in messages)
    assert elapsed < 30


@pytest.fixture
def web_page(tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<html><body style='background:#123456'><h1>dashboard</h1></body></html>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


def test_screenshot_of_the_definition_url(tmp_path: Path, sections: list[Any], web_page: str) -> None:
    job, published = _job(tmp_path, {"width": 320, "height": 240, "url": web_page})
    run(job)
    png = tmp_path / "out" / "app-1.png"
    _assert_png(png, (320, 240))
    from PIL import Image

    with Image.open(png) as image:
        assert image.convert("RGB").getpixel((300, 220)) == (0x12, 0x34, 0x56)
    assert sections == []  # no datasets read when the page is a URL
    assert not (tmp_path / "out" / "app-1-report.html").exists()
    assert published[0][1]["data"][0][2:] == [320, 240]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_page_that_does_not_load_is_an_error_with_chromiums_words(tmp_path: Path, sections: list[Any]) -> None:
    job, published = _job(tmp_path, {"width": 320, "height": 240, "url": f"http://127.0.0.1:{_closed_port()}/"})
    with pytest.raises(RuntimeError, match="wrote no screenshot") as caught:
        run(job)
    assert "ERR_CONNECTION_REFUSED" in str(caught.value)
    assert "dbus" not in str(caught.value)
    assert published == []


def test_a_page_that_never_finishes_loading_is_still_captured(tmp_path: Path) -> None:
    """Chromium gives up waiting at 3/4 of the timeout and shoots what has arrived."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><h1>half a page")
            held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    png = tmp_path / "slow.png"
    try:
        # 10 s: Chromium's own start took more than 3 s on a busy 2-core machine (a CI failure).
        chromium.capture(
            url=f"http://127.0.0.1:{listener.getsockname()[1]}/", png_path=png, width=200, height=100, timeout=10
        )
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert chromium.png_size(png) == (200, 100)


def _live_members(pgid: int) -> list[int]:
    listing = subprocess.run(["ps", "-eo", "pid=,pgid=,stat="], capture_output=True, text=True, check=True).stdout
    return [
        int(pid)
        for pid, group, state in (line.split() for line in listing.splitlines())
        if int(group) == pgid and not state.startswith("Z")
    ]


def test_stopping_the_task_ends_chromium_and_its_helpers(tmp_path: Path) -> None:
    """Chromium runs in a session of its own: the run registers it, and terminating that ends all of it."""
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers: Chromium keeps waiting
    processes = ChildProcesses()

    def rendering() -> list[int] | None:
        pids = processes.pids()
        if pids and len(_live_members(pids[0])) > 1:  # the browser and its helpers are up
            return [pids[0], *_live_members(pids[0])]
        return None

    def capture() -> None:
        chromium.capture(
            url=f"http://127.0.0.1:{listener.getsockname()[1]}/",
            png_path=tmp_path / "x.png",
            width=200,
            height=100,
            timeout=60,
            processes=processes,
        )

    try:
        seen, elapsed = stop_once_ready(capture, processes=processes, ready=rendering, timeout=30)
    finally:
        listener.close()

    leader, *members = seen
    assert os.getpgid(0) != leader and len(members) > 1
    assert _live_members(leader) == []
    assert elapsed < 30 and processes.pids() == []
