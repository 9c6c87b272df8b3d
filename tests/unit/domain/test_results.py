from __future__ import annotations

from taskcenter.domain.results import MAX_ROWS, as_table


def test_shapes() -> None:
    assert as_table(None) is None
    assert as_table({"ok": True, "entity": "NOTEBOOK 1"}) == {
        "schema": [
            {"name": "entity", "title": "entity", "type": "string"},
            {"name": "ok", "title": "ok", "type": "bool"},
        ],
        "data": [["NOTEBOOK 1", True]],
    }
    rows = as_table([{"b": 1, "a": 2.5}, {"a": 1}])
    assert [c["name"] for c in rows["schema"]] == ["a", "b"] and rows["data"] == [[2.5, 1], [1, None]]
    assert rows["schema"][0]["type"] == "number" and rows["schema"][1]["type"] == "integer"
    assert as_table(42) == {"schema": [{"name": "value", "title": "value", "type": "integer"}], "data": [[42]]}
    ready = {"schema": [{"name": "x", "title": "X", "type": "integer"}], "data": [[1], [2]]}
    assert as_table(ready) == ready


def test_results_are_bounded() -> None:
    table = as_table([{"n": i} for i in range(MAX_ROWS + 5)])
    assert len(table["data"]) == MAX_ROWS and table["truncated"] is True and table["totalRows"] == MAX_ROWS + 5
