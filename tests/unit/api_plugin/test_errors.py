from __future__ import annotations

import pytest

from api_plugin.errors import _field_of, status_for
from taskcenter.domain.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TaskCenterError,
)


@pytest.mark.parametrize(
    ("location", "field"),
    [
        (("body", "planItems", 0, "cronDesc"), "planItems[0].cronDesc"),
        (("query", "limit"), "limit"),
        (("body",), "body"),
        (("body", "execDetail", "jobParams"), "execDetail.jobParams"),
    ],
)
def test_field_of_names_the_field_as_a_client_writes_it(location: tuple, field: str) -> None:
    assert _field_of(location) == field


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInputError("x"), 400),
        (AuthenticationError("x"), 401),
        (PermissionDeniedError("x"), 403),
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (TaskCenterError("x"), 400),
    ],
)
def test_status_for_each_domain_error(error: TaskCenterError, status: int) -> None:
    assert status_for(error) == status


def test_every_domain_error_has_a_non_zero_code() -> None:
    for kind in (InvalidInputError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError):
        assert int(kind("x").code) != 0
