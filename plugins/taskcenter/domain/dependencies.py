"""DEPENDENCY triggers form a graph between plans; it must stay acyclic."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from taskcenter.domain.plans import EntityRef


def find_cycle(edges: Mapping[EntityRef, Iterable[EntityRef]]) -> list[EntityRef] | None:
    """A cycle `[a, b, ..., a]` in `plan -> upstream plans`, or None when there is none."""
    visiting: list[EntityRef] = []
    on_path: set[EntityRef] = set()
    done: set[EntityRef] = set()

    def visit(node: EntityRef) -> list[EntityRef] | None:
        if node in on_path:
            return visiting[visiting.index(node) :] + [node]
        if node in done:
            return None
        visiting.append(node)
        on_path.add(node)
        for upstream in edges.get(node, ()):
            if cycle := visit(upstream):
                return cycle
        on_path.discard(visiting.pop())
        done.add(node)
        return None

    for start in list(edges):
        if cycle := visit(start):
            return cycle
    return None
