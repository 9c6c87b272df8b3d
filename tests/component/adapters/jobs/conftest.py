"""Fixtures shared by the app job tests (SCREENSHOT, APP_EMAIL)."""

from __future__ import annotations

from tests.unit.adapters.jobs.fakes import sections  # noqa: F401 - the fixture
