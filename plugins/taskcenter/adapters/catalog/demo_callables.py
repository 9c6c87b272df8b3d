"""Python callables the demo catalog's pipelines name (`"callable": "module:function"`).

A pipeline's python node is called as `function(*, params, upstream, log)`: `params` are the job's
`jobParams`, `upstream` maps each node it depends on to that node's result table
(`{"schema": [...], "data": [...]}`, or None), `log` files lines under the node's subKey.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from taskcenter.adapters.jobs.base import table


def pipeline_summary(*, params: Mapping[str, Any], upstream: Mapping[Any, Any], log: Any) -> dict[str, Any]:
    """PIPELINE 1's last node: totals over the per-city revenue table of node 2.

    The input is found by its columns (city, orders, revenue) rather than by node id, so the
    callable keeps working when the pipeline's nodes are renumbered.
    """
    cities = _per_city(upstream)
    if cities is None:
        raise ValueError(f"no upstream result with city/orders/revenue columns among nodes {list(upstream)}")
    orders = sum(int(row["orders"] or 0) for row in cities)
    revenue = round(sum(float(row["revenue"] or 0) for row in cities), 2)
    top = max(cities, key=lambda row: float(row["revenue"] or 0), default=None)
    log.info(f"pipeline {params.get('pipeline')}: {len(cities)} cities, {orders} orders, revenue {revenue}")
    return table(
        ["cities", "orders", "revenue", "topCity", "topCityRevenue"],
        [[len(cities), orders, revenue, top and top["city"], top and top["revenue"]]],
    )


def _per_city(upstream: Mapping[Any, Any]) -> list[dict[str, Any]] | None:
    for result in upstream.values():
        if not isinstance(result, Mapping) or "schema" not in result:
            continue
        names = [column["name"] if isinstance(column, Mapping) else str(column) for column in result["schema"]]
        if {"city", "orders", "revenue"} <= set(names):
            return [dict(zip(names, row, strict=False)) for row in result["data"]]
    return None


def slow_step(*, params: Mapping[str, Any], upstream: Mapping[Any, Any], log: Any) -> dict[str, Any]:
    """PIPELINE 3's nodes: about 11 s of work each (`jobParams.stepSeconds`), a log line a second."""
    seconds = int(params.get("stepSeconds", 11))
    rows = sum(len(result["data"]) for result in upstream.values() if isinstance(result, Mapping) and "data" in result)
    for second in range(1, seconds + 1):
        time.sleep(1)
        log.info(f"working: {second} of {seconds} s")
    return table(["seconds", "upstreamRows"], [[seconds, rows]])
