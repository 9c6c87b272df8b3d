"""A job's result as the API's table (任务执行结果说明): `{"schema": [...], "data": [[...], ...]}`.

Runners may return a ready table (`{"schema": [...], "data": [...]}`), a list of rows (dicts, whose
columns are ordered by name), a single dict (one row) or a scalar (one cell). Schema entries are
shaped like the dataset field structure (`name`, `title`, `type`). Results are bounded: at most
`MAX_ROWS` rows and `MAX_CELLS` cells, with `truncated: true` when rows were dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MAX_ROWS = 1000
MAX_CELLS = 100_000


def _type_of(values: Sequence[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "string"
    if kinds <= {bool}:
        return "bool"
    if kinds <= {int}:
        return "integer"
    if kinds <= {int, float, Decimal}:
        return "number"
    if kinds <= {date, datetime}:
        return "date"
    return "string"


def _column(name: str, values: Sequence[Any]) -> dict[str, Any]:
    return {"name": name, "title": name, "type": _type_of(values)}


def _completed(column: dict[str, Any], values: Sequence[Any]) -> dict[str, Any]:
    """A runner's schema entry with `title` and `type` filled in where it left them out."""
    column.setdefault("title", column.get("name"))
    column.setdefault("type", _type_of(values))
    return column


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _bounded(schema: list[dict[str, Any]], rows: list[list[Any]]) -> dict[str, Any]:
    width = max(1, len(schema))
    limit = min(MAX_ROWS, MAX_CELLS // width)
    table: dict[str, Any] = {"schema": schema, "data": [[_cell(v) for v in row] for row in rows[:limit]]}
    if len(rows) > limit:
        table["truncated"] = True
        table["totalRows"] = len(rows)
    return table


def as_table(value: Any) -> dict[str, Any] | None:
    """The API table for a runner's return value; None for no result."""
    if value is None:
        return None
    if isinstance(value, Mapping) and "schema" in value and "data" in value:
        rows = [list(row) for row in value["data"]]
        schema = [
            _completed(dict(c) if isinstance(c, Mapping) else {"name": str(c)}, [r[i] for r in rows if i < len(r)])
            for i, c in enumerate(value["schema"])
        ]
        return _bounded(schema, rows)
    # Column order of dict rows is by name: XCom may come back from a JSON column (PostgreSQL's
    # JSONB) with its keys reordered. A runner that cares about order returns schema + data.
    if isinstance(value, Mapping):
        keys = sorted(value, key=str)
        return _bounded([_column(str(k), [value[k]]) for k in keys], [[value[k] for k in keys]])
    if (
        isinstance(value, Sequence)
        and not isinstance(value, (str, bytes))
        and value
        and all(isinstance(r, Mapping) for r in value)
    ):
        names = sorted({str(k) for row in value for k in row})
        rows = [[{str(k): v for k, v in row.items()}.get(n) for n in names] for row in value]
        return _bounded([_column(n, [r[i] for r in rows]) for i, n in enumerate(names)], rows)
    return _bounded([_column("value", [value])], [[value]])
