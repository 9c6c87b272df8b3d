"""The version string returned in every API envelope (`version`): package version and build."""

from __future__ import annotations

import functools
import os
import subprocess
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "airflow-taskcenter"


@functools.cache
def package_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


@functools.cache
def build_id() -> str:
    """The build: ``TASKCENTER_BUILD`` when a deployment sets it, else the git commit of the source."""
    if build := os.environ.get("TASKCENTER_BUILD"):
        return build
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=7", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def version_string() -> str:
    """``<version>@<build>``, e.g. ``0.1.0@1a2b3c4``."""
    return f"{package_version()}@{build_id()}"
