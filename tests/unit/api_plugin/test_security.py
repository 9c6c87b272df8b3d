"""Authorization per plan: what `api_plugin.security` asks Airflow's auth manager, and path ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from api_plugin import security
from api_plugin.datamodels.paths import MAX_ID, parse_path_id
from taskcenter.domain.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from taskcenter.domain.plans import EntityRef
from taskcenter.domain.users import Caller


@dataclass
class FakeAuthManager:
    """FAB's rules in small: a grant of every DAG, or of some DAGs by id."""

    every_dag: set[str] = field(default_factory=set)  # methods granted on every DAG
    dags: dict[str, set[str]] = field(default_factory=dict)  # dag id -> methods
    listed: list[str] = field(default_factory=list)

    def is_authorized_dag(
        self, *, method: str, access_entity: Any = None, details: Any = None, user: Any = None
    ) -> bool:
        if method in self.every_dag:
            return True
        if details is None:  # a list: some DAG readable
            return method == "GET" and any("GET" in m for m in self.dags.values())
        return method in self.dags.get(details.id, set())

    def get_authorized_dag_ids(self, *, user: Any, method: str = "GET") -> set[str]:
        self.listed.append(method)
        return {dag_id for dag_id, methods in self.dags.items() if method in methods}


@pytest.fixture
def auth(monkeypatch: pytest.MonkeyPatch) -> FakeAuthManager:
    import airflow.api_fastapi.app as airflow_app

    manager = FakeAuthManager()
    monkeypatch.setattr(airflow_app, "get_auth_manager", lambda: manager)
    return manager


CALLER = Caller(user_id=7, name="ann", principal=object())


class Targets:
    def __init__(self, plans: dict[EntityRef, int]) -> None:
        self.plans = plans

    def plan_of_entity(self, ref: EntityRef) -> int | None:
        return self.plans.get(ref)


def test_a_caller_granted_every_dag_reads_every_plan_without_a_list_of_ids(auth: FakeAuthManager) -> None:
    auth.every_dag = {"GET"}
    assert security.readable_plans(CALLER) is None
    assert auth.listed == []  # at 10,000 plans, no list of every DAG id is read


def test_a_caller_granted_some_dags_reads_those_plans_only(auth: FakeAuthManager) -> None:
    auth.dags = {
        "taskcenter_plan_3": {"GET"},
        "taskcenter_plan_5": {"GET", "PUT"},
        "users_own_dag": {"GET"},
        "taskcenter_plan_x": {"GET"},
    }
    assert security.readable_plans(CALLER) == frozenset({3, 5})
    auth.dags = {}
    assert security.readable_plans(CALLER) == frozenset()


def test_a_plan_is_authorized_against_its_dag_and_a_missing_one_against_every_dag(auth: FakeAuthManager) -> None:
    auth.dags = {"taskcenter_plan_3": {"GET", "PUT"}}
    security.authorize(CALLER, method="PUT", plan_id=3)
    with pytest.raises(PermissionDeniedError, match="'ann' may not change plans"):
        security.authorize(CALLER, method="PUT", plan_id=4)
    with pytest.raises(PermissionDeniedError):
        security.authorize(CALLER, method="GET", plan_id=None)  # a plan that does not exist
    targets = Targets(
        {EntityRef(entity_group="NOTEBOOK", entity_key="1"): 3, EntityRef(entity_group="NOTEBOOK", entity_key="2"): 4}
    )
    assert (
        security.authorize_entity(CALLER, targets, EntityRef(entity_group="NOTEBOOK", entity_key="1"), method="PUT")
        == 3
    )  # type: ignore[arg-type]
    for key in ("2", "new"):  # another's plan; a new plan needs edit of every DAG
        with pytest.raises(PermissionDeniedError):
            security.authorize_entity(CALLER, targets, EntityRef(entity_group="NOTEBOOK", entity_key=key), method="PUT")  # type: ignore[arg-type]
    auth.every_dag = {"PUT"}
    assert (
        security.authorize_entity(CALLER, targets, EntityRef(entity_group="NOTEBOOK", entity_key="new"), method="PUT")
        is None
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("text, expected", [("1", 1), ("0", 0), ("42", 42), (str(MAX_ID), MAX_ID)])
def test_a_path_id_is_a_plain_decimal_within_int64(text: str, expected: int) -> None:
    assert parse_path_id(text, field="scheduleId", what="plan") == expected


@pytest.mark.parametrize("text", ["", "+1", "-1", " 1", "1 ", "1.0", "01", "1_000", "²", "١", "0x1", "1e3", "abc"])
def test_anything_but_a_plain_decimal_is_malformed(text: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_path_id(text, field="scheduleId", what="plan")
    assert refused.value.field == "scheduleId" and len(refused.value.message) < 120


@pytest.mark.parametrize("text", [str(MAX_ID + 1), "9" * 400])
def test_a_number_past_int64_names_no_plan(text: str) -> None:
    with pytest.raises(NotFoundError) as refused:
        parse_path_id(text, field="scheduleId", what="plan")
    assert refused.value.field == "scheduleId" and len(refused.value.message) < 120
