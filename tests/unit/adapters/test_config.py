"""`[taskcenter]`: each option declared once (taskcenter.adapters.config), the provider info and the
docs built from or checked against that declaration, and no module reading the section itself."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from taskcenter.adapters import config
from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG
from taskcenter.provider import get_provider_info

ROOT = Path(__file__).resolve().parents[3]
SOURCES = (ROOT / "plugins", ROOT / "api_plugin")
CONFIG_MODULE = ROOT / "plugins" / "taskcenter" / "adapters" / "config.py"
# `conf.get("taskcenter", ...)`, `conf.getint(SECTION, ...)`, `conf.has_option("taskcenter", ...)`, ...
_SECTION_READ = re.compile(r"""\bconf\s*\.\s*\w+\(\s*(?:["']taskcenter["']|SECTION\b)""")
_ENV_READ = re.compile(r"AIRFLOW__TASKCENTER__")


def _env(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"AIRFLOW__TASKCENTER__{name.upper()}", value)


def test_every_option_is_declared_once() -> None:
    names = [option.name for option in config.OPTIONS]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)
    assert list(config.OPTION) == names
    assert set(config.JOB_OPTION_NAMES) <= set(names)
    for option in config.OPTIONS:
        assert isinstance(option.default, str), option.name
        assert option.description, option.name


def test_provider_info_is_the_declaration() -> None:
    section = get_provider_info()["config"]
    assert list(section) == [config.SECTION]
    assert section[config.SECTION]["description"] == config.SECTION_DESCRIPTION
    options = section[config.SECTION]["options"]
    assert list(options) == [option.name for option in config.OPTIONS]
    for option in config.OPTIONS:
        assert options[option.name] == {
            "description": option.description,
            "version_added": option.version_added,
            "type": option.type,
            "example": option.example,
            "default": option.default,
        }


def test_a_typed_default_parses_as_its_type() -> None:
    for option in config.OPTIONS:
        if option.type == "integer":
            int(option.default)
        elif option.type == "float":
            float(option.default)


def test_airflow_answers_the_declared_default_of_every_option() -> None:
    """Airflow fills options from the provider info: what it answers is what is declared here."""
    from airflow.configuration import conf

    for option in config.OPTIONS:
        assert conf.get(config.SECTION, option.name) == option.default, option.name
        assert config.get(option.name) == option.default, option.name


def test_no_module_reads_the_section_but_the_config_module() -> None:
    offenders = []
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.py")):
            if path == CONFIG_MODULE:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if _SECTION_READ.search(line) or _ENV_READ.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "read [taskcenter] through taskcenter.adapters.config:\n" + "\n".join(offenders)


def test_the_section_read_pattern_finds_reads() -> None:
    assert _SECTION_READ.search('x = conf.get("taskcenter", "plans_bundle", fallback="dags-folder")')
    assert _SECTION_READ.search("conf.getfloat( 'taskcenter', 'sync_timeout')")
    assert _SECTION_READ.search("conf.getint(SECTION, name)")
    assert not _SECTION_READ.search('conf = (run.conf or {}).get("taskcenter") or {}')


def test_docs_list_every_option_with_its_default() -> None:
    rows = {}
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\| `(\w+)` \| ([^|]*) \|", line):
            rows[match.group(1)] = match.group(2).strip()
    for option in config.OPTIONS:
        assert option.name in rows, f"docs/configuration.md does not list {option.name}"
        shown = rows[option.name]
        if option.default:
            assert shown == f"`{option.default}`", option.name
        else:
            assert shown.startswith("(empty"), option.name


def test_readers_parse_the_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert config.plans_bundle() == "dags-folder"
    assert config.plans_subfolder() == "taskcenter_plans"
    assert config.catalog_path() == DEMO_CATALOG
    assert config.parse_timeout() == 30.0
    assert config.sync_timeout() == 3600.0
    assert config.logs_block_timeout() == 600.0
    assert config.max_waiting_requests() == 100
    assert config.retry_delay() == timedelta(seconds=30)
    assert config.engine_conn_id() == "taskcenter_engine"
    assert config.job_runners() == {}
    assert config.job_classes() == {}
    assert config.job_options() == {
        "engine_conn_id": "taskcenter_engine",
        "smtp_conn_id": "taskcenter_smtp",
        "email_from": "taskcenter@localhost",
        "screenshot_timeout": "60",
        "sync_batch_size": "1000",
        "display_timezone": "Asia/Shanghai",
    }
    assert str(config.display_zone()) == "Asia/Shanghai"

    _env(monkeypatch, "plans_subfolder", "/nested/plans/")
    _env(monkeypatch, "catalog_path", str(tmp_path / "catalog.json"))
    _env(monkeypatch, "retry_delay_seconds", "1.5")
    _env(monkeypatch, "max_waiting_requests", "7")
    _env(monkeypatch, "engine_conn_id", "")
    _env(monkeypatch, "smtp_conn_id", "")
    _env(monkeypatch, "chromium_path", "/usr/bin/chromium")
    _env(monkeypatch, "display_timezone", "UTC")
    assert config.plans_subfolder() == "nested/plans"
    assert config.catalog_path() == tmp_path / "catalog.json"
    assert config.retry_delay() == timedelta(seconds=1.5)
    assert config.max_waiting_requests() == 7
    assert config.engine_conn_id() == "taskcenter_engine"  # empty: the default connection
    options = config.job_options()
    assert "smtp_conn_id" not in options and options["chromium_path"] == "/usr/bin/chromium"
    assert str(config.display_zone()) == "UTC"


def test_results_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__AIRFLOW_HOME", str(tmp_path / "home"))
    assert config.results_folder() == tmp_path / "home" / "taskcenter" / "results"
    _env(monkeypatch, "results_folder", str(tmp_path / "results"))
    assert config.results_folder() == tmp_path / "results"


def test_job_runners_must_be_a_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, "job_runners", '{"com.example.Job": "pkg.jobs:run"}')
    assert config.job_runners() == {"com.example.Job": "pkg.jobs:run"}
    _env(monkeypatch, "job_runners", '["pkg.jobs:run"]')
    with pytest.raises(ValueError, match="JSON object"):
        config.job_runners()
    _env(monkeypatch, "job_runners", "{not json")
    with pytest.raises(ValueError):
        config.job_runners()


def test_malformed_job_classes_are_logged_once_and_ignored(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _env(monkeypatch, "job_classes", '{"com.example.Job": "NOTEBOOK"}')
    assert config.job_classes() == {"com.example.Job": "NOTEBOOK"}
    _env(monkeypatch, "job_classes", '{"com.example.Job": 1, "test": "config"}')
    with caplog.at_level(logging.ERROR, logger=config.__name__):
        assert config.job_classes() == {}
        assert config.job_classes() == {}
    assert [record.getMessage() for record in caplog.records].count(
        '[taskcenter] job_classes is not a JSON object of job class -> entity group; ignored: '
        '{"com.example.Job": 1, "test": "config"}'
    ) == 1
