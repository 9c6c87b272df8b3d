"""Keeps the test process's own Airflow imports away from ~/airflow; marks each test by its folder.

Importing Airflow reads (and may create) $AIRFLOW_HOME; the tests' Airflow processes get their own
homes from the harness, and the pytest process gets a throw-away one here.

Each test gets the marker of the folder it is in (pyproject.toml declares them): tests/unit `unit`,
tests/component `component`, tests/integration `integration`; `pytest -m unit` runs the pure ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_HOME_KEY = pytest.StashKey[str]()
TESTS = Path(__file__).resolve().parent
FOLDER_MARKERS = ("unit", "component", "integration")


def pytest_configure(config: pytest.Config) -> None:
    home = tempfile.mkdtemp(prefix="taskcenter-pytest-airflow-")
    os.environ["AIRFLOW_HOME"] = home
    config.stash[_HOME_KEY] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    if home := config.stash.get(_HOME_KEY, None):
        shutil.rmtree(home, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.resolve().relative_to(TESTS).parts[0]
        except ValueError:  # a test outside tests/ (none today)
            continue
        if folder in FOLDER_MARKERS:
            item.add_marker(folder)
