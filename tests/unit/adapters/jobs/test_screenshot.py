from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from taskcenter.adapters.jobs import chromium
from taskcenter.adapters.jobs.base import JobDefinitionError, JobRun, MissingToolError
from taskcenter.adapters.jobs.screenshot import run
from tests.unit.adapters.jobs.fakes import app_job

JOB_CLASS = "com.hengshi.nangaparbat.schedulejob.ScreenshotJob"


def _job(
    tmp_path: Path, definition: dict[str, Any], options: dict[str, str] | None = None
) -> tuple[JobRun, list[tuple[str, Any]]]:
    return app_job(tmp_path, group="SCREENSHOT", job_class=JOB_CLASS, definition=definition, options=options)


def test_missing_configured_chromium_names_the_install(tmp_path: Path, sections: list[Any]) -> None:
    job, _ = _job(tmp_path, {"width": 640, "height": 400}, options={"chromium_path": str(tmp_path / "no-such-browser")})
    with pytest.raises(MissingToolError, match="apt-get install chromium") as caught:
        run(job)
    assert "no-such-browser" in str(caught.value) and "chromium_path" in str(caught.value)
    assert sections == []  # fails before reading any data


def test_no_chromium_on_path_names_the_install(
    tmp_path: Path, sections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    job, _ = _job(tmp_path, {"width": 640, "height": 400})
    with pytest.raises(MissingToolError, match=r"apt-get install chromium .* or set \[taskcenter\] chromium_path"):
        run(job)
    assert isinstance(MissingToolError("x"), JobDefinitionError)


@pytest.mark.parametrize(
    "definition",
    [
        {"width": 0, "height": 10},
        {"width": "640", "height": 10},
        {"width": 10, "height": True},
        {"url": 5},
        {"url": "--renderer-cmd-prefix=/bin/sh"},
        {"url": "javascript:alert(1)"},
    ],
)
def test_bad_definitions(tmp_path: Path, sections: list[Any], definition: dict[str, Any]) -> None:
    job, _ = _job(tmp_path, definition)
    with pytest.raises(JobDefinitionError, match="definition"):
        run(job)


def test_unknown_app(tmp_path: Path, sections: list[Any]) -> None:
    job, _ = _job(tmp_path, {})
    job = JobRun(**{**job.__dict__, "job_params": {"app": 42}})
    with pytest.raises(JobDefinitionError, match="no SCREENSHOT entity '42'|no SCREENSHOT entity 42"):
        run(job)


def test_png_size_reads_the_header_and_checks_the_signature(tmp_path: Path) -> None:
    from PIL import Image

    good = tmp_path / "a.png"
    Image.new("RGB", (37, 11)).save(good)
    assert chromium.png_size(good) == (37, 11)
    bad = tmp_path / "a.jpg"
    Image.new("RGB", (37, 11)).save(bad, format="JPEG")
    with pytest.raises(ValueError, match="not a PNG"):
        chromium.png_size(bad)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="not a PNG"):
        chromium.png_size(empty)


def test_runs_without_sandbox_flag_only_as_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def fake_run(
        args: list[str], *, timeout: float, cwd: str, processes: Any, progress: Any = None
    ) -> tuple[int | None, str]:
        seen.append(args)
        Path(next(a for a in args if a.startswith("--screenshot=")).split("=", 1)[1]).write_bytes(b"x")
        return 0, ""

    monkeypatch.setattr(chromium, "_run", fake_run)
    for uid in (0, 1000):
        monkeypatch.setattr(os, "geteuid", lambda uid=uid: uid)
        chromium.capture(
            url="about:blank", png_path=tmp_path / "x.png", width=10, height=20, timeout=5, browser="/bin/true"
        )
    assert "--no-sandbox" in seen[0] and "--no-sandbox" not in seen[1]
    assert {"--headless", "--disable-gpu", "--hide-scrollbars", "--window-size=10,20"} <= set(seen[1])
    assert any(a.startswith("--user-data-dir=") for a in seen[1]) and seen[1][-1] == "about:blank"
