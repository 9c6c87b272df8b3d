"""The foundation on a running api-server: the compat API is protected and Airflow is untouched."""

from __future__ import annotations

import sqlalchemy as sa

from taskcenter.adapters.store.db_manager import TaskCenterDBManager
from tests.integration.harness import RunningTaskCenter


def test_schedules_without_token_is_401_with_envelope(taskcenter: RunningTaskCenter) -> None:
    response = taskcenter.request("GET", "/api/schedules", headers={})
    assert response.status_code == 401
    body = response.json()
    assert body["code"] != 0
    assert "token" in body["msg"].lower()
    assert body["version"]


def test_contexts_without_token_is_401(taskcenter: RunningTaskCenter) -> None:
    response = taskcenter.request("GET", "/api/contexts/1", headers={})
    assert response.status_code == 401
    assert response.json()["code"] != 0


def test_invalid_token_is_401(taskcenter: RunningTaskCenter) -> None:
    response = taskcenter.request("GET", "/api/schedules", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
    assert response.json()["code"] != 0


def test_schedules_with_token_is_an_empty_list(taskcenter: RunningTaskCenter) -> None:
    response = taskcenter.request("GET", "/api/schedules")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 0
    assert body["msg"] == "success"
    assert body["data"] == []
    assert body["totalHits"] == 0
    assert body["offset"] == 0
    assert isinstance(body["version"], str) and "@" in body["version"]


def test_airflow_api_and_ui_are_untouched(taskcenter: RunningTaskCenter) -> None:
    version = taskcenter.request("GET", "/api/v2/version", headers={})
    assert version.status_code == 200
    assert version.json()["version"].startswith("3.3.")
    index = taskcenter.request("GET", "/", headers={})
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert "<html" in index.text.lower()
    # Airflow's own API still enforces its own auth and answers in its own format.
    dags = taskcenter.request("GET", "/api/v2/dags", headers={})
    assert dags.status_code == 401
    assert "detail" in dags.json()


def test_plugin_is_loaded_once_without_import_errors(taskcenter: RunningTaskCenter) -> None:
    plugins = taskcenter.request("GET", "/api/v2/plugins").json()
    assert [p["name"] for p in plugins["plugins"]].count("taskcenter") == 1
    errors = taskcenter.request("GET", "/api/v2/plugins/importErrors").json()
    assert errors["total_entries"] == 0, errors


def test_unknown_compat_route_answers_in_envelope(taskcenter: RunningTaskCenter) -> None:
    response = taskcenter.request("GET", "/api/schedules/1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] != 0


def test_bad_query_parameter_is_400_naming_the_field(taskcenter: RunningTaskCenter) -> None:
    response = taskcenter.request("GET", "/api/schedules", params={"limit": "many"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] != 0
    assert "limit" in body["msg"]


def test_db_migrate_created_taskcenter_tables_at_head(taskcenter: RunningTaskCenter) -> None:
    engine = sa.create_engine(taskcenter.settings.sql_alchemy_conn)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            revision = conn.execute(
                sa.text(f"SELECT version_num FROM {TaskCenterDBManager.version_table_name}")
            ).scalar()
    finally:
        engine.dispose()
    assert {"taskcenter_plan", "taskcenter_plan_item"} <= tables
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(TaskCenterDBManager.migration_dir).get_current_head()
    assert head and revision == head
