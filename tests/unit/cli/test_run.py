from __future__ import annotations

import pytest

from taskcenter.cli.run import choose_database, parse_overrides


def test_parse_overrides_groups_options_by_section() -> None:
    assert parse_overrides(["core.parallelism=4", "core.dags_are_paused_at_creation=False", "logging.x=a=b"]) == {
        "core": {"parallelism": "4", "dags_are_paused_at_creation": "False"},
        "logging": {"x": "a=b"},
    }


@pytest.mark.parametrize("bad", ["parallelism=4", "core.parallelism", ".x=1", "core.=1"])
def test_parse_overrides_rejects_malformed_pairs(bad: str) -> None:
    with pytest.raises(SystemExit, match="SECTION.OPTION=VALUE"):
        parse_overrides([bad])


def test_a_new_home_runs_on_the_embedded_postgres(tmp_path) -> None:
    assert choose_database(tmp_path, None) == ("postgres", None)
    assert choose_database(tmp_path, "sqlite") == ("sqlite", None)


def test_a_home_made_on_sqlite_stays_on_sqlite_with_a_note(tmp_path) -> None:
    (tmp_path / "airflow.db").write_bytes(b"")
    database, note = choose_database(tmp_path, None)
    assert database == "sqlite"
    assert note and "stays on SQLite" in note


def test_postgres_is_refused_where_it_would_leave_sqlite_data_behind(tmp_path) -> None:
    (tmp_path / "airflow.db").write_bytes(b"")
    with pytest.raises(SystemExit, match="would leave its plans and runs behind"):
        choose_database(tmp_path, "postgres")


def test_a_home_with_both_uses_postgres(tmp_path) -> None:
    (tmp_path / "airflow.db").write_bytes(b"")
    (tmp_path / "postgres" / "data").mkdir(parents=True)
    (tmp_path / "postgres" / "data" / "PG_VERSION").write_text("18\n")
    assert choose_database(tmp_path, None) == ("postgres", None)
