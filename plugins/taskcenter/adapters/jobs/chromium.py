"""Headless Chromium: the one browser the SCREENSHOT and APP_EMAIL runners render pages with.

Chromium is a system program, not a Python package, so it is looked up at run time (a configured
path or the usual names on PATH) and a missing browser is a `MissingToolError` that says how to
install it. Each capture is one `chromium --headless --screenshot` process with a throw-away
profile, so runs share no state and leave nothing behind but the PNG.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from taskcenter.adapters.jobs.base import ChildProcesses, MissingToolError

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "install Debian's chromium: apt-get install chromium (make run / make test do it when run as root) "
    "or set [taskcenter] chromium_path"
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 16384
# Lines Chromium (and Debian's wrapper script) print in containers without a D-Bus or findmnt;
# they hide the line that explains a failure.
_NOISE = ("dbus/", ": unexpected operator")
_TAIL_LINES = 15
# How often a slow render reports that Chromium is still at work.
PROGRESS_SECONDS = 5.0


def find_chromium(*, configured: str = "") -> str:
    """The browser to run: the configured path (or name) if set, else the first known name on PATH."""
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise MissingToolError(f"[taskcenter] chromium_path {configured!r} is not an executable; {INSTALL_HINT}")
        return found
    for name in BROWSER_NAMES:
        if found := shutil.which(name):
            return found
    raise MissingToolError(f"no Chromium found on PATH (looked for {', '.join(BROWSER_NAMES)}); {INSTALL_HINT}")


def capture(
    *,
    url: str,
    png_path: Path,
    width: int,
    height: int,
    timeout: float,
    browser: str | None = None,
    processes: ChildProcesses | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Render `url` in a `width` x `height` viewport and save it as a PNG at `png_path`.

    Chromium stops waiting for the page after most of `timeout` and shoots what has loaded (slow
    dashboards still give a picture); the process group is killed at `timeout`. A failed load
    (refused connection, unknown host) writes no PNG and becomes a RuntimeError with Chromium's
    stderr tail, since Chromium itself exits 0 then. Chromium runs in a session of its own,
    registered in `processes` while it runs, so stopping the task stops the browser too.
    `progress(seconds)` is called every few seconds while Chromium works (a slow page).
    """
    if url.startswith("-"):  # would be read as a Chromium switch
        raise ValueError(f"not a URL: {url!r}")
    for side in (width, height):
        if not 1 <= side <= MAX_SIDE:
            raise ValueError(f"screenshot size {width}x{height} is outside 1..{MAX_SIDE}")
    program = browser or find_chromium()
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.unlink(missing_ok=True)
    load_budget_ms = max(1000, int(timeout * 750))
    with tempfile.TemporaryDirectory(prefix="taskcenter-chromium-", ignore_cleanup_errors=True) as profile:
        args = [
            program,
            "--headless",
            *(["--no-sandbox"] if _is_root() else []),
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--window-size={width},{height}",
            f"--screenshot={png_path}",
            f"--user-data-dir={profile}",
            f"--timeout={load_budget_ms}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--mute-audio",
            url,
        ]
        returncode, stderr = _run(args, timeout=timeout, cwd=profile, processes=processes, progress=progress)
    if returncode is None:
        raise RuntimeError(f"Chromium did not finish rendering {url} within {timeout:g}s; {_tail(stderr)}")
    if returncode != 0:
        raise RuntimeError(f"Chromium exited with code {returncode} rendering {url}; {_tail(stderr)}")
    if not png_path.is_file() or png_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium wrote no screenshot of {url}; {_tail(stderr)}")


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk: checks what Chromium wrote without Pillow."""
    with open(path, "rb") as file:
        head = file.read(24)
    if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _is_root() -> bool:
    # Chromium refuses to start its sandbox as root; as any other user the sandbox stays on.
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run(
    args: list[str],
    *,
    timeout: float,
    cwd: str,
    processes: ChildProcesses | None,
    progress: Callable[[float], None] | None = None,
) -> tuple[int | None, str]:
    """Run Chromium in its own process group; (None, stderr) when it had to be killed."""
    process = subprocess.Popen(
        args,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if processes is not None:
        processes.add(process)
    try:
        return _wait(process, timeout=timeout, progress=progress)
    finally:
        if processes is not None and process.returncode is not None:
            processes.discard(process)  # reaped: its pid may be reused, never signal it again


def _wait(
    process: subprocess.Popen[bytes], *, timeout: float, progress: Callable[[float], None] | None = None
) -> tuple[int | None, str]:
    started = time.monotonic()
    deadline = started + timeout
    try:
        while True:
            try:
                output, _ = process.communicate(timeout=max(0.0, min(PROGRESS_SECONDS, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    raise
                if progress is not None:
                    progress(time.monotonic() - started)
    except subprocess.TimeoutExpired:
        # The renderer and GPU helpers share the group: kill them all, while the leader is unreaped.
        _kill_group(process)
        try:
            output, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a helper outside the group still holds the pipe
            process.kill()
            output = b""
        return None, output.decode("utf-8", "replace")
    except BaseException:
        _kill_group(process)
        process.wait()
        raise
    return process.returncode, output.decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip() and not any(n in line for n in _NOISE)]
    if not lines:
        return "Chromium printed nothing"
    return "Chromium said:\n" + "\n".join(lines[-_TAIL_LINES:])
