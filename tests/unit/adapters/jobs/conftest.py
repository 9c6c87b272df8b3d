"""Fixtures shared by the app job tests (SCREENSHOT, APP_EMAIL)."""

from __future__ import annotations

from typing import Any

import pytest

from taskcenter.adapters.jobs import report
from taskcenter.adapters.jobs.base import JobRun
from taskcenter.adapters.jobs.report import ReportSection
from tests.unit.adapters.jobs.fakes import SECTIONS


@pytest.fixture
def sections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stands in for dataset.py: the runners' seam is report.collect_sections; records the app ids."""
    calls: list[Any] = []

    def collect(job: JobRun, app_id: Any, *, limit: int = 20, log: Any = None) -> list[ReportSection]:
        calls.append(app_id)
        return SECTIONS

    monkeypatch.setattr(report, "collect_sections", collect)
    return calls
