from __future__ import annotations

import datetime as dt
import sys
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from taskcenter.adapters.jobs import report
from taskcenter.adapters.jobs.base import JobDefinitionError, JobRun
from taskcenter.adapters.jobs.report import ReportSection, collect_sections, render_app_report, write_report
from taskcenter.domain.catalog import Entity
from tests.unit.adapters.jobs.fakes import MemoryCatalog, make_job

GENERATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _job(tmp_path: Path, datasets: list[Entity]) -> JobRun:
    return make_job(
        job_class="com.hengshi.nangaparbat.schedulejob.ScreenshotJob",
        job_params={"app": 1},
        entity_group="SCREENSHOT",
        entity_key="1",
        catalog=MemoryCatalog(*datasets),
        work_folder=tmp_path / "out",
    ).job


def test_every_value_is_escaped() -> None:
    evil = "<script>alert('x')</script>&"
    page = render_app_report(
        app_title=evil,
        sections=[ReportSection(title=evil, columns=[evil, "n"], rows=[[evil, 1]], note=evil)],
        generated_at=GENERATED,
        screenshot_cid='a"b.png',
    )
    assert "<script>" not in page
    assert (
        page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;") == 7
    )  # title, h1, img alt, h2, note, th, td
    assert 'src="cid:a&quot;b.png"' in page


def test_page_is_self_contained_and_shows_every_dataset() -> None:
    sections = [
        ReportSection(
            title="orders",
            columns=["id", "amount", "paid", "note", "at", "blob"],
            rows=[
                [1, Decimal("12.50"), True, None, dt.datetime(2026, 1, 1, 8, 30), b"\x00\x01"],
                [2, 3.25, False, "x" * 500, None, b""],
            ],
            note="dataset 1-1 · 2 rows",
        ),
        ReportSection(title="customers", columns=["id"], rows=[], note="dataset 1-2 · 0 rows"),
        ReportSection(title="broken", columns=[], rows=[], note="could not be read: boom", failed=True),
    ]
    page = render_app_report(app_title="app1", sections=sections, generated_at=GENERATED)
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>app1 report</title>" in page
    assert "Generated 2026-01-02 03:04:05 UTC · 3 datasets" in page
    assert page.count("<table>") == 2
    assert (
        '<th class="num">amount</th>' in page
        and "<th>note</th>" in page
        and '<td class="num">12.50</td>' in page
        and '<td class="num">3.25</td>' in page
    )
    assert "<td>true</td>" in page and '<td class="null">null</td>' in page
    assert "<td>2026-01-01 08:30:00</td>" in page and '<td class="null">2 bytes</td>' in page
    assert "x" * 199 + "…" in page and "x" * 201 not in page
    assert "No rows." in page
    assert '<p class="note error">could not be read: boom</p>' in page
    for external in ("http://", "https://", "<link", "<script", "@import", "url("):
        assert external not in page


def test_no_datasets_says_so() -> None:
    page = render_app_report(app_title="empty", sections=[], generated_at=GENERATED)
    assert "This app has no datasets." in page and "0 datasets" in page


def _fake_dataset_module(monkeypatch: pytest.MonkeyPatch, previews: dict[str, Any]) -> list[int]:
    limits: list[int] = []

    def preview(job: JobRun, entity: Entity, *, limit: int = 20) -> tuple[list[str], list[list[Any]]]:
        limits.append(limit)
        found = previews[entity.key]
        if isinstance(found, Exception):
            raise found
        return found

    fake = types.ModuleType("taskcenter.adapters.jobs.dataset")
    fake.preview = preview  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "taskcenter.adapters.jobs.dataset", fake)
    monkeypatch.setattr(sys.modules["taskcenter.adapters.jobs"], "dataset", fake, raising=False)
    return limits


def test_collect_sections_reads_each_dataset_and_keeps_going_past_a_broken_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datasets = [
        Entity(group="DATASET", key=k, title=t)
        for k, t in (("1-1", "orders"), ("1-2", "broken"), ("1-3", "few"), ("2-1", "other"))
    ]
    limits = _fake_dataset_module(
        monkeypatch,
        {
            "1-1": (["id"], [(1,), (2,), (3,)]),
            "1-2": JobDefinitionError("no such table"),
            "1-3": (["id", "name"], [[1, "a"], [2, "b"]]),
        },
    )
    job = _job(tmp_path, datasets)
    log = job.step_log("1")
    sections = collect_sections(job, 1, limit=2, log=log)
    assert limits == [3, 3, 3]  # one more than shown, to know whether there are more
    assert [s.title for s in sections] == ["orders", "broken", "few"]
    assert sections[0].rows == [[1], [2]] and sections[0].note == "dataset 1-1 · first 2 rows"
    assert sections[1].failed and "no such table" in (sections[1].note or "")
    assert sections[2].note == "dataset 1-3 · 2 rows" and sections[2].rows == [[1, "a"], [2, "b"]]
    assert ("warning", "1", "dataset 1-2 (broken) could not be read: no such table") in job.log.records


def test_collect_sections_of_an_app_without_datasets_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dataset_module(monkeypatch, {})
    job = _job(tmp_path, [])
    assert collect_sections(job, 7) == []
    assert job.log.records[-1][0] == "warning"


def test_write_report_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out" / "app-1-report.html"
    write_report(path=path, page="first")
    write_report(path=path, page="<p>second ✓</p>")
    assert path.read_text(encoding="utf-8") == "<p>second ✓</p>"
    assert [p.name for p in path.parent.iterdir()] == ["app-1-report.html"]


def test_report_time_is_in_the_zone_the_job_got() -> None:
    class Job:
        def option(self, name: str) -> str:
            assert name == "display_timezone"
            return "Asia/Shanghai"

    assert str(report.report_time(Job()).tzinfo) == "Asia/Shanghai"
