"""The seven fields of a Quartz expression and the value sets a parsed expression holds."""

from __future__ import annotations

import enum
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field

# Markers Quartz keeps inside the value sets: '*' (every value) and '?' (no specific value).
ALL_SPEC = 99
NO_SPEC = 98

MONTH_NAMES = {name: number for number, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
DAY_NAMES = {name: number for number, name in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}


class Field(enum.IntEnum):
    """Quartz's field positions; `label` names the field in error messages."""

    SECOND = 0
    MINUTE = 1
    HOUR = 2
    DAY_OF_MONTH = 3
    MONTH = 4
    DAY_OF_WEEK = 5
    YEAR = 6

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Field.SECOND: "seconds",
    Field.MINUTE: "minutes",
    Field.HOUR: "hours",
    Field.DAY_OF_MONTH: "day-of-month",
    Field.MONTH: "month",
    Field.DAY_OF_WEEK: "day-of-week",
    Field.YEAR: "year",
}


class SortedValues:
    """An immutable sorted set of ints with Java `TreeSet` lookups (`tailSet(x).first()`)."""

    __slots__ = ("_values", "_set")

    def __init__(self, values: set[int]) -> None:
        self._values = sorted(values)
        self._set = frozenset(values)

    def __contains__(self, value: object) -> bool:
        return value in self._set

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[int]:
        return iter(self._values)

    def first(self) -> int:
        return self._values[0]

    def last(self) -> int:
        return self._values[-1]

    def ceiling(self, value: int) -> int | None:
        """The smallest member >= value (`tailSet(value).first()`), or None."""
        index = bisect_left(self._values, value)
        return self._values[index] if index < len(self._values) else None


@dataclass
class FieldSets:
    """What parsing accumulates: a value set per field and the day flags (Quartz's instance state)."""

    max_year: int
    sets: dict[Field, set[int]] = field(default_factory=lambda: {f: set() for f in Field})
    last_day_of_week: bool = False
    nth_day_of_week: int = 0
    last_day_of_month: bool = False
    nearest_weekday: bool = False
    last_day_offset: int = 0
