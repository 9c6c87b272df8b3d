"""taskcenter's options (`[taskcenter]` in Airflow's configuration): each declared once, here.

`OPTIONS` declares every option with its type, default, description and example;
`taskcenter.provider` builds the provider info's `config` section from it (so `airflow config
list` shows them), and the functions below read them from Airflow's `conf` with the declared
default as fallback, each parsed as its callers need it. No other module reads `[taskcenter]`
(tests/unit/adapters/test_config.py checks it); docs/configuration.md describes the options.

Importing this module does no work and does not import Airflow: Airflow calls the provider info
while it is itself importing its configuration, so `conf` is imported inside the readers.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

SECTION = "taskcenter"
SECTION_DESCRIPTION = "Settings of the taskcenter plugin (see docs/configuration.md)."

OptionType = Literal["string", "integer", "float"]


@dataclass(frozen=True, kw_only=True)
class Option:
    """One `[taskcenter]` option, as the provider info declares it (defaults are strings there)."""

    name: str
    type: OptionType = "string"
    default: str
    description: str
    example: str | None = None
    version_added: str = "0.1.0"

    def provider_info(self) -> dict[str, Any]:
        """The option's entry in the provider info (a plain dict, the schema's keys)."""
        return {
            "description": self.description,
            "version_added": self.version_added,
            "type": self.type,
            "example": self.example,
            "default": self.default,
        }


OPTIONS: tuple[Option, ...] = (
    Option(
        name="plans_bundle",
        default="dags-folder",
        description="Name of the DAG bundle (a LocalDagBundle) that holds generated plan DAG files.",
    ),
    Option(
        name="plans_subfolder",
        default="taskcenter_plans",
        description="Sub-folder of the plans bundle where one DAG file per plan is written.",
    ),
    Option(
        name="catalog_path",
        default="",
        description="JSON file of the entity catalog; empty: the demo catalog shipped with the package.",
        example="/opt/taskcenter/catalog.json",
    ),
    Option(
        name="parse_timeout",
        type="float",
        default="30",
        description="Seconds a run-now request waits for the dag-processor to parse a new plan's DAG.",
    ),
    Option(
        name="sync_timeout",
        type="float",
        default="3600",
        description="Seconds a run-now request with `sync: true` waits for the run to end.",
    ),
    Option(
        name="logs_block_timeout",
        type="float",
        default="600",
        description="Seconds `GET /api/contexts/{id}/logs|results?block=true` waits for the run to end.",
    ),
    Option(
        name="max_waiting_requests",
        type="integer",
        default="100",
        description="Requests that may wait for a run at once (`sync: true`, `block=true`), on threads of"
        " their own so that they never take the api-server threads tasks heartbeat through.",
    ),
    Option(
        name="retry_delay_seconds",
        type="float",
        default="30",
        description="Seconds between the tries of a failed job (`retryTimes` is the number of retries).",
    ),
    Option(
        name="job_runners",
        default="",
        description="Extra job runners, JSON {jobClass: 'module:callable'} (see docs/configuration.md).",
        example='{"com.example.MyJob": "my_pkg.jobs:run"}',
    ),
    Option(
        name="job_classes",
        default="",
        description="Extra job classes accepted in execDetail, JSON {jobClass: entityGroup}.",
        example='{"com.example.MyJob": "NOTEBOOK"}',
    ),
    Option(
        name="results_folder",
        default="",
        description="Folder where job runs keep their files (screenshots, reports, executed notebooks);"
        " empty: {AIRFLOW_HOME}/taskcenter/results.",
        example="/var/lib/taskcenter/results",
    ),
    Option(
        name="engine_conn_id",
        default="taskcenter_engine",
        description="Airflow connection of the dataset engine DB that DATASET and APP_REFRESH jobs fill.",
    ),
    Option(
        name="smtp_conn_id",
        default="taskcenter_smtp",
        description="Airflow SMTP connection APP_EMAIL jobs send through.",
    ),
    Option(
        name="email_from",
        default="taskcenter@localhost",
        description="Sender of APP_EMAIL messages when the SMTP connection has no from_email extra.",
    ),
    Option(
        name="chromium_path",
        default="",
        description="Chromium executable for SCREENSHOT and APP_EMAIL; empty: chromium on PATH.",
        example="/usr/bin/chromium",
    ),
    Option(
        name="screenshot_timeout",
        type="float",
        default="60",
        description="Seconds a page may take to render to PNG.",
    ),
    Option(
        name="sync_batch_size",
        type="integer",
        default="1000",
        description="Rows per batch of DB_BATCH_SYNC jobs whose project sets no batchSize.",
    ),
    Option(
        name="display_timezone",
        default="Asia/Shanghai",
        description="Zone in which the API formats datetimes (`YYYY-MM-DD HH:MM:SS`).",
        example="UTC",
    ),
)
OPTION: Mapping[str, Option] = MappingProxyType({option.name: option for option in OPTIONS})

# The options a job runner reads from its `JobRun.options` (`JobRun.option`), as set, unparsed.
JOB_OPTION_NAMES: tuple[str, ...] = (
    "engine_conn_id",
    "smtp_conn_id",
    "email_from",
    "chromium_path",
    "screenshot_timeout",
    "sync_batch_size",
    "display_timezone",
)


def provider_config() -> dict[str, Any]:
    """The provider info's `config` section: `[taskcenter]` and every declared option."""
    return {
        SECTION: {
            "description": SECTION_DESCRIPTION,
            "options": {option.name: option.provider_info() for option in OPTIONS},
        }
    }


def default(name: str) -> str:
    """The declared default of option `name` (a string, as in airflow.cfg)."""
    return OPTION[name].default


# Reading. Airflow fills an option missing from airflow.cfg and the environment with the provider
# info's default, i.e. the declared one; the fallback below serves when the provider info is not
# loaded (a process that reads its configuration without providers).


def get(name: str) -> str:
    """Option `name` as set (or its declared default), unparsed."""
    from airflow.configuration import conf

    return conf.get(SECTION, name, fallback=default(name))


def _get_int(name: str) -> int:
    from airflow.configuration import conf

    return conf.getint(SECTION, name, fallback=default(name))


def _get_float(name: str) -> float:
    from airflow.configuration import conf

    return conf.getfloat(SECTION, name, fallback=default(name))


def plans_bundle() -> str:
    """The DAG bundle that holds the plans' DAG files."""
    return get("plans_bundle")


def plans_subfolder() -> str:
    """The plans' folder inside their bundle, without leading or trailing `/` ("": its root)."""
    return get("plans_subfolder").strip("/")


def catalog_path() -> Path:
    """The entity catalog's JSON file; not set: the demo catalog shipped with the package."""
    configured = get("catalog_path")
    if configured:
        return Path(configured)
    from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG

    return DEMO_CATALOG


def parse_timeout() -> float:
    return _get_float("parse_timeout")


def sync_timeout() -> float:
    return _get_float("sync_timeout")


def logs_block_timeout() -> float:
    return _get_float("logs_block_timeout")


def max_waiting_requests() -> int:
    return _get_int("max_waiting_requests")


def retry_delay() -> timedelta:
    """The delay between the tries of a failed job (`retry_delay_seconds`)."""
    return timedelta(seconds=_get_float("retry_delay_seconds"))


def engine_conn_id() -> str:
    """The dataset engine's connection; set but empty: the default one."""
    return get("engine_conn_id") or default("engine_conn_id")


def results_folder() -> Path:
    """Where runs keep their files; not set: {AIRFLOW_HOME}/taskcenter/results."""
    configured = get("results_folder")
    if configured:
        return Path(configured)
    from airflow.configuration import conf

    return Path(conf.get("core", "airflow_home", fallback=".")) / "taskcenter" / "results"


def job_options() -> dict[str, str]:
    """The job runners' options that are set and not empty (a runner falls back to the declared
    default of the others, `JobRun.option`)."""
    return {name: value for name in JOB_OPTION_NAMES if (value := get(name)) not in (None, "")}


def job_runners() -> dict[str, str]:
    """`job_runners`: job class -> "module:callable". Malformed: an error (JSON's or ValueError)."""
    raw = get("job_runners") or ""
    if not raw.strip():
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("[taskcenter] job_runners must be a JSON object {jobClass: 'module:callable'}")
    return {str(k): str(v) for k, v in value.items()}


def job_classes() -> dict[str, str]:
    """`job_classes`: job class -> entity group or "*". Malformed: logged once and read as empty (the
    built-in job classes still work), not an error per plan created."""
    return _parse_job_classes(get("job_classes") or "")


@functools.cache
def _parse_job_classes(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        declared = json.loads(raw)
        if isinstance(declared, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in declared.items()):
            return declared
    except ValueError:
        pass
    log.error("[taskcenter] job_classes is not a JSON object of job class -> entity group; ignored: %.200s", raw)
    return {}


def display_zone() -> ZoneInfo:
    """The zone the API formats datetimes in."""
    return _zone(get("display_timezone"))


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
