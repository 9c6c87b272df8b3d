"""SCREENSHOT (`ScreenshotJob`, jobParams {"app": id}): a PNG of an app, taken by headless Chromium.

The page is the definition's `url` when the catalog gives one (the app's live dashboard), else the
app's HTML report (its datasets' tables, `report.py`), written next to the PNG in the run's output
folder and rendered from `file://`. Both files stay in the output folder after the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from taskcenter.adapters.jobs import chromium, report
from taskcenter.adapters.jobs.base import JobDefinitionError, JobRun, table

DEFAULT_WIDTH = 1280
DEFAULT_HEIGHT = 800
RESULT_COLUMNS = ["file", "bytes", "width", "height"]
URL_SCHEMES = ("http", "https", "file")


@dataclass(frozen=True, kw_only=True)
class Shot:
    path: Path
    bytes: int
    width: int
    height: int


def run(job: JobRun) -> None:
    app_id = job.param("app")
    entity = job.entity("SCREENSHOT", app_id)
    sub_key = str(app_id)
    log = job.step_log(sub_key)
    width, height = viewport(entity.definition, job_class=job.job_class)
    url = page_url(entity.definition, job_class=job.job_class, resolve=job.resolve_path)
    browser = browser_for(job)  # before reading any data: a missing browser fails at once
    folder = job.output_folder()
    if url is None:
        report_path = write_app_report(job, app_id=app_id, app_title=entity.title, log=log)
        url = report_path.resolve().as_uri()
        log.info("rendering the report of app %s (%s) at %dx%d", app_id, entity.title, width, height)
    else:
        log.info("rendering %s for app %s (%s) at %dx%d", url, app_id, entity.title, width, height)
    png_path = folder / f"app-{app_id}.png"
    job.checkpoint(f"the screenshot of app {app_id}")
    shot = take(job, url=url, png_path=png_path, width=width, height=height, browser=browser, log=log)
    job.publish(sub_key, table(RESULT_COLUMNS, [[str(shot.path), shot.bytes, shot.width, shot.height]]))


def viewport(definition: Mapping[str, Any], *, job_class: str) -> tuple[int, int]:
    """The definition's width and height in CSS pixels (1280x800 when not given)."""
    sizes = []
    for name, default in (("width", DEFAULT_WIDTH), ("height", DEFAULT_HEIGHT)):
        value = definition.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= chromium.MAX_SIDE:
            limit = chromium.MAX_SIDE
            raise JobDefinitionError(
                f"{job_class}: definition.{name} must be whole pixels in 1..{limit}, got {value!r}"
            )
        sizes.append(value)
    return sizes[0], sizes[1]


def page_url(
    definition: Mapping[str, Any], *, job_class: str, resolve: Callable[[str], Path] | None = None
) -> str | None:
    """The definition's `url` (or its `page`, a file of the catalog), or None to render the app's report."""
    page = definition.get("page")
    if page not in (None, ""):
        if not isinstance(page, str) or resolve is None:
            raise JobDefinitionError(f"{job_class}: definition.page must be a file of the entity catalog, got {page!r}")
        return resolve(page).resolve().as_uri()
    url = definition.get("url")
    if url is None or url == "":
        return None
    if not isinstance(url, str) or urlsplit(url.strip()).scheme.lower() not in URL_SCHEMES:
        raise JobDefinitionError(f"{job_class}: definition.url must be an http(s) or file URL, got {url!r}")
    return url.strip()


def browser_for(job: JobRun) -> str:
    return chromium.find_chromium(configured=job.option("chromium_path"))


def write_app_report(job: JobRun, *, app_id: Any, app_title: str, log: Any) -> Path:
    """The app's report as `app-<id>-report.html` in the output folder."""
    sections = report.collect_sections(job, app_id, log=log)
    page = report.render_app_report(app_title=app_title, sections=sections, generated_at=report.report_time(job))
    path = report.write_report(path=job.output_folder() / f"app-{app_id}-report.html", page=page)
    log.info("report of %d dataset(s) written to %s", len(sections), path)
    return path


def take(job: JobRun, *, url: str, png_path: Path, width: int, height: int, browser: str, log: Any) -> Shot:
    """Capture `url` into `png_path` and check that Chromium wrote a PNG of the requested size."""
    timeout = _timeout(job)
    started = time.monotonic()
    chromium.capture(
        url=url,
        png_path=png_path,
        width=width,
        height=height,
        timeout=timeout,
        browser=browser,
        processes=job.processes,
        progress=lambda seconds: log.info("Chromium is still rendering the page (%.0f s)", seconds),
    )
    seconds = time.monotonic() - started
    shot_width, shot_height = chromium.png_size(png_path)
    shot = Shot(path=png_path.resolve(), bytes=png_path.stat().st_size, width=shot_width, height=shot_height)
    log.info("screenshot %s saved: %d bytes, %dx%d, in %.1fs", shot.path, shot.bytes, shot.width, shot.height, seconds)
    if (shot_width, shot_height) != (width, height):
        log.warning("Chromium wrote %dx%d instead of the requested %dx%d", shot_width, shot_height, width, height)
    return shot


def _timeout(job: JobRun) -> float:
    raw = job.option("screenshot_timeout")
    try:
        value = float(raw)
    except ValueError:
        raise JobDefinitionError(f"[taskcenter] screenshot_timeout must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise JobDefinitionError(f"[taskcenter] screenshot_timeout must be positive, got {raw!r}")
    return value
