from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taskcenter.adapters.jobs.app_email import run
from taskcenter.adapters.jobs.base import JobDefinitionError, JobRun, MissingToolError
from tests.unit.adapters.jobs.fakes import app_job

JOB_CLASS = "com.hengshi.nangaparbat.schedulejob.AppEmailJob"


def _job(
    tmp_path: Path, definition: dict[str, Any], options: dict[str, str] | None = None
) -> tuple[JobRun, list[tuple[str, Any]]]:
    return app_job(tmp_path, group="APP_EMAIL", job_class=JOB_CLASS, definition=definition, options=options)


@pytest.mark.parametrize(
    "definition",
    [
        {},
        {"recipients": []},
        {"recipients": "a@example.com"},
        {"recipients": ["not an address"]},
        {"recipients": ["a@example.com\r\nBcc: x@example.com"]},
        {"recipients": ["a@example.com"], "subject": 3},
    ],
)
def test_bad_definitions_fail_before_any_work(tmp_path: Path, sections: list[Any], definition: dict[str, Any]) -> None:
    job, published = _job(tmp_path, definition)
    with pytest.raises(JobDefinitionError, match="definition"):
        run(job)
    assert sections == [] and published == []


def test_missing_smtp_connection_is_a_definition_error(
    tmp_path: Path, sections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_TASKCENTER_SMTP", raising=False)
    job, _ = _job(tmp_path, {"recipients": ["a@example.com"]}, options={"smtp_conn_id": "taskcenter_no_such_smtp"})
    with pytest.raises(JobDefinitionError, match="taskcenter_no_such_smtp"):
        run(job)
    assert sections == []


def test_missing_chromium_names_the_install(
    tmp_path: Path, sections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    job, _ = _job(tmp_path, {"recipients": ["a@example.com"]})
    with pytest.raises(MissingToolError, match="apt-get install chromium"):
        run(job)
    assert sections == []
