"""An app's HTML report: one table per dataset, the page SCREENSHOT renders and APP_EMAIL sends.

Rendering is a pure function of the sections (so it is tested without a catalog or a database);
`collect_sections` is the one place that reads the datasets, through `dataset.py`. The page is
self-contained (inline CSS, no scripts, fonts or remote images) because it is opened from
`file://` by a headless browser and read in mail clients that block remote content.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskcenter.domain.catalog import app_datasets

MAX_CELL_CHARS = 200

_CSS = """
body { margin: 0; padding: 24px 32px; background: #f5f6f8; color: #1f2933;
       font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif; }
h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
h2 { margin: 0 0 2px; font-size: 16px; font-weight: 600; }
.meta { margin: 0 0 20px; color: #616e7c; font-size: 13px; }
.section { margin: 0 0 20px; padding: 16px 18px; background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; }
.note { margin: 0 0 10px; color: #616e7c; font-size: 12px; }
.note.error { color: #ab091e; }
.empty { margin: 0; color: #616e7c; font-style: italic; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; min-width: 40%; font-size: 13px; }
th { text-align: left; background: #f0f4f8; color: #334e68; font-weight: 600; border-bottom: 2px solid #d9e2ec; }
th, td { padding: 5px 10px; white-space: nowrap; }
td { border-bottom: 1px solid #eef1f4; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #fafbfc; }
th.num, td.num { text-align: right; }
td.null { color: #9aa5b1; font-style: italic; }
.shot { margin: 0 0 20px; }
.shot img { max-width: 100%; border: 1px solid #e4e7eb; }
"""


@dataclass(frozen=True, kw_only=True)
class ReportSection:
    """One dataset's part of the report; `note` says how much is shown or why nothing is."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    note: str | None = None
    failed: bool = False


def render_app_report(
    *,
    app_title: str,
    sections: Sequence[ReportSection],
    generated_at: dt.datetime,
    screenshot_cid: str | None = None,
) -> str:
    """The whole page; every value from the catalog or the data is HTML-escaped."""
    title = _text(app_title)
    count = len(sections)
    meta = f"Generated {_text(_when(generated_at))} · {count} dataset{'' if count == 1 else 's'}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title} report</title>",
        f"<style>{_CSS}</style>",
        "</head><body>",
        f"<h1>{title}</h1>",
        f'<p class="meta">{meta}</p>',
    ]
    if screenshot_cid:
        parts.append(f'<div class="shot"><img src="cid:{_text(screenshot_cid)}" alt="{title} screenshot"></div>')
    if not sections:
        parts.append('<div class="section"><p class="empty">This app has no datasets.</p></div>')
    parts.extend(_section(section) for section in sections)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def collect_sections(job: Any, app_id: Any, *, limit: int = 20, log: Any = None) -> list[ReportSection]:
    """One section per dataset of the app; a dataset that cannot be read becomes a section saying why.

    One broken dataset should not keep the rest of the report from its readers; the failure is
    logged as a warning and shown in its section.
    """
    from taskcenter.adapters.jobs import dataset

    log = log if log is not None else job.log
    sections = []
    for entity in app_datasets(job.catalog, app_id):
        try:
            # One row more than shown tells "the first 20 rows" from "all 20 rows".
            columns, fetched = dataset.preview(job, entity, limit=limit + 1)
        except Exception as exc:  # noqa: BLE001 - reported in the page and the log
            log.warning("dataset %s (%s) could not be read: %s", entity.key, entity.title, exc)
            note = f"dataset {entity.key}: could not be read: {exc}"
            sections.append(ReportSection(title=entity.title, columns=[], rows=[], note=note, failed=True))
            continue
        rows = [list(row) for row in fetched[:limit]]
        shown = f"first {limit} rows" if len(fetched) > limit else f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
        log.info("dataset %s (%s): %d columns, %s", entity.key, entity.title, len(columns), shown)
        note = f"dataset {entity.key} · {shown}"
        sections.append(ReportSection(title=entity.title, columns=list(columns), rows=rows, note=note))
    if not sections:
        log.warning("app %s has no datasets; the report says so", app_id)
    return sections


def report_time(job: Any) -> dt.datetime:
    """Now, in taskcenter's display time zone (the one the UI shows run times in), as the job got it."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(job.option("display_timezone")))


def write_report(*, path: Path, page: str) -> Path:
    """Write the page atomically, so a browser or a mail never reads half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(page)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the report from whoever serves the results folder
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _section(section: ReportSection) -> str:
    parts = ['<div class="section">', f"<h2>{_text(section.title)}</h2>"]
    if section.note:
        parts.append(f'<p class="note{" error" if section.failed else ""}">{_text(section.note)}</p>')
    if section.columns:
        numeric = _numeric_columns(section)
        head = "".join(
            f'<th class="num">{_text(c)}</th>' if i in numeric else f"<th>{_text(c)}</th>"
            for i, c in enumerate(section.columns)
        )
        body = "\n".join(f"<tr>{''.join(_cell(value) for value in row)}</tr>" for row in section.rows)
        parts.append(
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>'
        )
        if not section.rows:
            parts.append('<p class="empty">No rows.</p>')
    elif not section.failed:
        parts.append('<p class="empty">No columns.</p>')
    parts.append("</div>")
    return "\n".join(parts)


def _numeric_columns(section: ReportSection) -> set[int]:
    """Columns whose values are all numbers (or null), so their headings align with the figures."""
    numeric = set()
    for index in range(len(section.columns)):
        values = [row[index] for row in section.rows if index < len(row) and row[index] is not None]
        if values and all(_is_number(v) for v in values):
            numeric.add(index)
    return numeric


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return '<td class="null">null</td>'
    if isinstance(value, bool):
        return f"<td>{'true' if value else 'false'}</td>"
    if _is_number(value):
        return f'<td class="num">{_text(value)}</td>'
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return f"<td>{_text(value.isoformat(sep=' ') if isinstance(value, dt.datetime) else value.isoformat())}</td>"
    if isinstance(value, bytes | bytearray | memoryview):
        return f'<td class="null">{len(bytes(value))} bytes</td>'
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return f"<td>{_text(text)}</td>"


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _text(value: Any) -> str:
    return html.escape(str(value), quote=True)
