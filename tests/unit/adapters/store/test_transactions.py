"""What a database error means for a request, from real errors of SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from taskcenter.adapters.store.transactions import DbFailure, classify


def test_a_wrapped_database_error_is_found_and_anything_else_is_none() -> None:
    try:
        try:
            raise sa.exc.TimeoutError("pool")
        except sa.exc.TimeoutError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert classify(outer) is DbFailure.OVERLOADED
    assert classify(ValueError("x")) is None
