"""The query parameters of the list and users endpoints, read once for every route.

The plan and context listings share their filters (spec 1.2.9, 1.2.10, 1.2.12, 1.2.13); a value
that names nothing the API knows (an unknown entity group or job status, a creator that is not an
id) is a 400 naming the parameter, not an empty list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

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

    def query(self, *, offset: int = 0, limit: int = DEFAULT_LIMIT) -> PlanQuery:
        return PlanQuery(
            offset=offset,
            limit=limit,
            entity_key=self.entity_key,
            entity_group=parse_entity_group(self.entity_group).value if self.entity_group is not None else None,
            q=self.q or None,
            entity_created_by=_creators(self.creators),
            job_statuses=self.statuses,
        )


def _creators(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InvalidInputError(
            "entityCreatedByList: a comma-separated list of user ids", field="entityCreatedByList"
        ) from None


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
        entity_key=entity_key,
        entity_group=entity_group,
        q=q,
        creators=entity_created_by_list,
        statuses=tuple(dict.fromkeys(statuses)),
    )


@dataclass(frozen=True, kw_only=True)
class Page:
    offset: int
    limit: int


def _page(offset: Annotated[int, Query()] = 0, limit: Annotated[int, Query()] = DEFAULT_LIMIT) -> Page:
    return Page(offset=offset, limit=limit)


FiltersDep = Annotated[Filters, Depends(_filters)]
PageDep = Annotated[Page, Depends(_page)]
