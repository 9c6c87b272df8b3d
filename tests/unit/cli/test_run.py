from __future__ import annotations

import pytest

from taskcenter.cli.run import DatabaseChoice, choose_database, parse_overrides


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
    assert choose_database(tmp_path, None) == DatabaseChoice(database="postgres")
    assert choose_database(tmp_path, "sqlite") == DatabaseChoice(database="sqlite")


def test_a_home_made_on_sqlite_moves_to_postgres_with_a_note(tmp_path) -> None:
    (tmp_path / "airflow.db").write_bytes(b"")
    for requested in (None, "postgres"):
        choice = choose_database(tmp_path, requested)
        assert choice.database == "postgres" and choice.move_from_sqlite
        assert choice.note and "kept as a backup" in choice.note


def test_a_sqlite_home_asked_to_stay_stays(tmp_path) -> None:
    (tmp_path / "airflow.db").write_bytes(b"")
    assert choose_database(tmp_path, "sqlite") == DatabaseChoice(database="sqlite")
