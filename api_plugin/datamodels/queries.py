"""The query parameters of the list and users endpoints, read once for every route.

The plan and context listings share their filters (spec 1.2.9, 1.2.10, 1.2.12, 1.2.13); a value
that names nothing the API knows (an unknown entity group or job status, a creator that is not an
id) is a 400 naming the parameter, not an empty list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from taskcenter.domain import limits
from taskcenter.domain.errors import InvalidInputError
from taskcenter.domain.plan_requests import entity_group as parse_entity_group
from taskcenter.domain.plans import PlanQuery
from taskcenter.domain.runs import parse_statuses

DEFAULT_LIMIT = 10


@dataclass(frozen=True, kw_only=True)
class Filters:
    """The filters every listing accepts, as the client sent them."""

    entity_key: str | None
    entity_group: str | None
    q: str | None
    creators: str | None
    statuses: tuple[str, ...]

    def query(
        self, *, offset: int = 0, limit: int = DEFAULT_LIMIT, plan_ids: frozenset[int] | None = None
    ) -> PlanQuery:
        """The domain query; `plan_ids`: the plans the caller may read (None: all)."""
        return PlanQuery(
            plan_ids=plan_ids,
            offset=offset,
            limit=limit,
            entity_key=self.entity_key,
            entity_group=parse_entity_group(self.entity_group).value if self.entity_group is not None else None,
            q=self.q or None,
            entity_created_by=_creators(self.creators),
            job_statuses=self.statuses,
        )


MAX_CREATORS = 1000


def _creators(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    values = [v.strip() for v in text.split(",") if v.strip()]
    if len(values) > MAX_CREATORS or not all(v.isascii() and v.isdigit() and int(v) <= limits.MAX_ID for v in values):
        raise InvalidInputError(
            f"entityCreatedByList: a comma-separated list of at most {MAX_CREATORS} user ids",
            field="entityCreatedByList",
        )
    return tuple(int(v) for v in values)


def _text(value: str | None, *, field: str, max_length: int) -> str | None:
    """A filter value as the plan columns hold them: bounded, no NUL, valid Unicode."""
    if value is None:
        return None
    problem = limits.text_problem(value, max_length=max_length)
    if problem:
        raise InvalidInputError(f"{field}: {problem}", field=field)
    return value


def _filters(
    entity_key: Annotated[str | None, Query(alias="entityKey")] = None,
    entity_group: Annotated[str | None, Query(alias="entityGroup")] = None,
    q: Annotated[str | None, Query()] = None,
    entity_created_by_list: Annotated[str | None, Query(alias="entityCreatedByList")] = None,
    job_status: Annotated[str | None, Query(alias="jobStatus")] = None,
    job_status_list: Annotated[str | None, Query(alias="jobStatusList")] = None,
) -> Filters:
    # The contexts endpoints take `jobStatus` and `jobStatusList`; both combine.
    statuses = parse_statuses(job_status, field="jobStatus") + parse_statuses(job_status_list, field="jobStatusList")
    return Filters(
        entity_key=_text(entity_key, field="entityKey", max_length=limits.ENTITY_KEY_LENGTH),
        entity_group=_text(entity_group, field="entityGroup", max_length=limits.ENTITY_GROUP_LENGTH),
        q=_text(q, field="q", max_length=limits.QUERY_TEXT_LENGTH),
        creators=entity_created_by_list,
        statuses=tuple(dict.fromkeys(statuses)),
    )


@dataclass(frozen=True, kw_only=True)
class Page:
    offset: int
    limit: int


def _page(offset: Annotated[str, Query()] = "0", limit: Annotated[str, Query()] = str(DEFAULT_LIMIT)) -> Page:
    return Page(offset=_count(offset, field="offset"), limit=_count(limit, field="limit"))


def _count(text: str, *, field: str) -> int:
    """`offset` and `limit`: plain decimals within 64 bits (their ranges are checked by the services)."""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 19):
        raise InvalidInputError(f"{field}: must be a whole number", field=field)
    value = int(text)
    if not -limits.MAX_ID <= value <= limits.MAX_ID:
        raise InvalidInputError(f"{field}: must be a whole number", field=field)
    return value


FiltersDep = Annotated[Filters, Depends(_filters)]
PageDep = Annotated[Page, Depends(_page)]
