"""Plan use cases (执行计划)."""

from __future__ import annotations

from typing import Protocol

from taskcenter.domain.errors import InvalidInputError
from taskcenter.domain.plans import PlanPage, PlanQuery

MAX_PAGE_SIZE = 1000


class PlanStore(Protocol):
    def list(self, query: PlanQuery) -> PlanPage: ...


class PlanService:
    def __init__(self, *, store: PlanStore) -> None:
        self._store = store

    def list_plans(self, query: PlanQuery) -> PlanPage:
        if query.offset < 0:
            raise InvalidInputError("offset: must be 0 or more", field="offset")
        if not 1 <= query.limit <= MAX_PAGE_SIZE:
            raise InvalidInputError(f"limit: must be between 1 and {MAX_PAGE_SIZE}", field="limit")
        return self._store.list(query)
