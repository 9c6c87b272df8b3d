from __future__ import annotations

import pytest

from taskcenter.cli.run import parse_overrides


def test_parse_overrides_groups_options_by_section() -> None:
    assert parse_overrides(["core.parallelism=4", "core.dags_are_paused_at_creation=False", "logging.x=a=b"]) == {
        "core": {"parallelism": "4", "dags_are_paused_at_creation": "False"},
        "logging": {"x": "a=b"},
    }


@pytest.mark.parametrize("bad", ["parallelism=4", "core.parallelism", ".x=1", "core.=1"])
def test_parse_overrides_rejects_malformed_pairs(bad: str) -> None:
    with pytest.raises(SystemExit, match="SECTION.OPTION=VALUE"):
        parse_overrides([bad])
