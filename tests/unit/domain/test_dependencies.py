from __future__ import annotations

from taskcenter.domain.dependencies import find_cycle
from taskcenter.domain.plans import EntityRef

A, B, C, D = (EntityRef(entity_group="NOTEBOOK", entity_key=k) for k in "abcd")


def test_no_cycle_in_a_chain_or_a_diamond() -> None:
    assert find_cycle({A: [B], B: [C]}) is None
    assert find_cycle({A: [B, C], B: [D], C: [D]}) is None
    assert find_cycle({}) is None


def test_self_dependency_is_a_cycle() -> None:
    assert find_cycle({A: [A]}) == [A, A]


def test_longer_cycle_is_reported_in_order() -> None:
    assert find_cycle({A: [B], B: [C], C: [A]}) == [A, B, C, A]


def test_cycle_reachable_from_a_non_cycle_node() -> None:
    cycle = find_cycle({D: [A], A: [B], B: [A]})
    assert cycle == [A, B, A]
