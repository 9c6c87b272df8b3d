"""Keeps the test process's own Airflow imports away from ~/airflow.

Importing Airflow reads (and may create) $AIRFLOW_HOME; the tests' Airflow processes get their own
homes from the harness, and the pytest process gets a throw-away one here.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_HOME_KEY = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    home = tempfile.mkdtemp(prefix="taskcenter-pytest-airflow-")
    os.environ["AIRFLOW_HOME"] = home
    config.stash[_HOME_KEY] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    if home := config.stash.get(_HOME_KEY, None):
        shutil.rmtree(home, ignore_errors=True)
