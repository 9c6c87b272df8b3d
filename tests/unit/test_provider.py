"""The provider info must pass the schema Airflow validates it with in every process."""

from __future__ import annotations

import json
from pathlib import Path

import airflow
import jsonschema
from airflow.utils.db_manager import RunDBManager

from taskcenter.adapters.store.db_manager import TaskCenterDBManager
from taskcenter.provider import get_provider_info


def test_provider_info_is_valid_for_airflow() -> None:
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert info["package-name"] == "airflow-taskcenter"
    assert info["db-managers"] == ["taskcenter.adapters.store.db_manager.TaskCenterDBManager"]


def test_db_manager_passes_airflows_validation() -> None:
    RunDBManager._validate(TaskCenterDBManager)
    assert TaskCenterDBManager.version_table_name != "alembic_version"
