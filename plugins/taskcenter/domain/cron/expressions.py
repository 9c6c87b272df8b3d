"""One class per form a Quartz field value can take, and the scanner that recognizes them.

The scanner is a faithful port of Quartz 2.3.2's `storeExpressionVals`/`checkNext`, quirks
included, because compatibility means accepting exactly what Quartz accepts, with the same
meaning: names are read by their first three letters, characters after a complete value are
ignored (`5X` is `5`, `SUN/3` is `SUN`), `*/0` is every value, `2/0` is just 2, a step after a
range is not range-checked, the year field is not range-checked. Each scanned value becomes one
of the expression objects below, which adds itself to the `FieldSets` as Quartz's `addToSet` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskcenter.domain.cron.fields import ALL_SPEC, DAY_NAMES, MONTH_NAMES, NO_SPEC, Field, FieldSets


class Reject(Exception):
    """Quartz would reject this value (a ParseException or a runtime error while parsing).

    `field` is set when the fault lies in another field than the one being scanned (a `?` in
    day-of-week is rejected because day-of-month has no value), so the message names that one.
    """

    def __init__(self, reason: str, *, field: Field | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


_BOUNDS = {
    Field.SECOND: (0, 59),
    Field.MINUTE: (0, 59),
    Field.HOUR: (0, 23),
    Field.DAY_OF_MONTH: (1, 31),
    Field.MONTH: (1, 12),
    Field.DAY_OF_WEEK: (1, 7),
}
# Quartz's "overflow" modulus for wrap-around ranges such as 22-2 or FRI-MON.
_WRAP = {
    Field.SECOND: 60, Field.MINUTE: 60, Field.HOUR: 24, Field.DAY_OF_MONTH: 31, Field.MONTH: 12, Field.DAY_OF_WEEK: 7
}
# Quartz's checkIncrementRange: the largest step accepted after '*' or a single start value.
_MAX_STEP = {
    Field.SECOND: 59, Field.MINUTE: 59, Field.HOUR: 23, Field.DAY_OF_MONTH: 31, Field.MONTH: 12, Field.DAY_OF_WEEK: 7
}
_INT_MAX = 2**31 - 1
_JAVA_INT = re.compile(r"[+-]?\d+")


def add_to_set(sets: FieldSets, field: Field, value: int, end: int, step: int) -> None:
    """Quartz's `addToSet`: validate the bounds, then add one value or a (wrapping) stepped range."""
    target = sets.sets[field]
    _check_bounds(field, value, end)
    if step in (0, -1) and value != ALL_SPEC:
        target.add(value if value != -1 else NO_SPEC)
        return
    start, stop = value, end
    if value == ALL_SPEC and step <= 0:
        step = 1
        target.add(ALL_SPEC)
    if field is Field.YEAR:
        default_start, default_stop = 1970, sets.max_year
    else:
        default_start, default_stop = _BOUNDS[field]
    if stop == -1:
        stop = default_stop
    if start in (-1, ALL_SPEC):
        start = default_start
    _add_range(target, field, start, stop, step)


def _check_bounds(field: Field, value: int, end: int) -> None:
    """Quartz's range check of `addToSet` (none for the year, `*` and `?`)."""
    if field not in _BOUNDS or value == ALL_SPEC:
        return
    if field in (Field.DAY_OF_MONTH, Field.DAY_OF_WEEK) and value == NO_SPEC:
        return
    low, high = _BOUNDS[field]
    if field is Field.DAY_OF_WEEK:
        out_of_range = value == 0 or value > high or end > high
    else:
        out_of_range = value < low or value > high or end > high
    if out_of_range:
        raise Reject(f"values must be between {low} and {high}")


def _add_range(target: set[int], field: Field, start: int, stop: int, step: int) -> None:
    """Add start, start+step, ... stop; a range with stop < start wraps around the field's modulus."""
    wrap = -1
    if stop < start:
        if field is Field.YEAR:
            raise Reject("start year must be less than stop year")
        wrap = _WRAP[field]
        stop += wrap
    for i in range(start, stop + 1, step):
        if wrap == -1:
            target.add(i)
        else:
            wrapped = i % wrap
            if wrapped == 0 and field in (Field.MONTH, Field.DAY_OF_WEEK, Field.DAY_OF_MONTH):
                wrapped = wrap
            target.add(wrapped)


@dataclass(frozen=True)
class Every:
    """`*`, `*/n` or `/n`: every value, or every n-th from the field's minimum."""

    step: int

    def apply(self, sets: FieldSets, field: Field) -> None:
        add_to_set(sets, field, ALL_SPEC, -1, self.step)


@dataclass(frozen=True)
class NoSpecificValue:
    """`?` in day-of-month or day-of-week: the other day field decides."""

    def apply(self, sets: FieldSets, field: Field) -> None:
        if field is Field.DAY_OF_WEEK and not sets.last_day_of_month:
            days_of_month = sets.sets[Field.DAY_OF_MONTH]
            if not days_of_month:
                raise Reject("no value (a lone ',' gives nothing to fire at)", field=Field.DAY_OF_MONTH)
            if max(days_of_month) == NO_SPEC:
                raise Reject("'?' can only be specified for day-of-month -OR- day-of-week")
        add_to_set(sets, field, NO_SPEC, -1, 0)


@dataclass(frozen=True)
class Value:
    """A single value: `5`, `JAN`, `MON`."""

    value: int

    def apply(self, sets: FieldSets, field: Field) -> None:
        add_to_set(sets, field, self.value, -1, 0)


@dataclass(frozen=True)
class Range:
    """`a-b` or `a-b/n`; wraps around when b < a (`22-2`, `FRI-MON`)."""

    start: int
    end: int
    step: int = 1

    def apply(self, sets: FieldSets, field: Field) -> None:
        add_to_set(sets, field, self.start, self.end, self.step)


@dataclass(frozen=True)
class StartStep:
    """`a/n`: a, a+n, ... up to the field's maximum."""

    start: int
    step: int

    def apply(self, sets: FieldSets, field: Field) -> None:
        add_to_set(sets, field, self.start, -1, self.step)


@dataclass(frozen=True)
class LastDayOfMonth:
    """`L`, `L-n`, `LW`, `L-nW`: the last (or n-th to last) day, or the weekday nearest to it."""

    offset: int = 0
    nearest_weekday: bool = False

    def apply(self, sets: FieldSets, field: Field) -> None:
        sets.last_day_of_month = True
        sets.last_day_offset = self.offset
        sets.nearest_weekday = sets.nearest_weekday or self.nearest_weekday


@dataclass(frozen=True)
class NearestWeekday:
    """`nW`: the weekday nearest to day n, without leaving the month."""

    day: int

    def apply(self, sets: FieldSets, field: Field) -> None:
        sets.nearest_weekday = True
        sets.sets[field].add(self.day)


@dataclass(frozen=True)
class LastWeekdayOfMonth:
    """`nL` / `FRIL` in day-of-week: the last such weekday of the month."""

    day: int
    checked: bool = False

    def apply(self, sets: FieldSets, field: Field) -> None:
        sets.last_day_of_week = True
        if self.checked:
            add_to_set(sets, field, self.day, -1, 0)
        else:
            sets.sets[field].add(self.day)


@dataclass(frozen=True)
class NthWeekdayOfMonth:
    """`n#k` / `FRI#k`: the k-th such weekday of the month (no fire in a month without one)."""

    day: int
    nth: int
    checked: bool = False

    def apply(self, sets: FieldSets, field: Field) -> None:
        sets.nth_day_of_week = self.nth
        if self.checked:
            add_to_set(sets, field, self.day, -1, 0)
        else:
            sets.sets[field].add(self.day)


@dataclass(frozen=True)
class NoValue:
    """`L` outside the day fields: Quartz parses it and stores nothing (the field is then empty)."""

    def apply(self, sets: FieldSets, field: Field) -> None:
        return None


FieldExpression = (
    Every
    | NoSpecificValue
    | Value
    | Range
    | StartStep
    | LastDayOfMonth
    | NearestWeekday
    | LastWeekdayOfMonth
    | NthWeekdayOfMonth
    | NoValue
)


# --- the scanner --------------------------------------------------------------------------------


def _char_at(text: str, index: int) -> str:
    if not 0 <= index < len(text):
        raise Reject("the value ends unexpectedly")
    return text[index]


def _java_int(text: str) -> int:
    if not _JAVA_INT.fullmatch(text) or not -_INT_MAX - 1 <= int(text) <= _INT_MAX:
        raise Reject(f"'{text}' is not a number")
    return int(text)


def _digit(char: str) -> int:
    if not char.isdecimal():
        raise Reject(f"'{char}' is not a digit")
    return int(char)


def _digits_from(prefix: int, text: str, index: int) -> tuple[int, int]:
    """Quartz's `getValue`: `prefix` followed by the ASCII digits at `index`; (value, next index)."""
    digits = str(prefix)
    while index < len(text) and "0" <= text[index] <= "9":
        digits += text[index]
        index += 1
    position = index if index < len(text) else index + 1
    return _java_int(digits), position


def _check_step(step: int, field: Field) -> None:
    if field in _MAX_STEP and step > _MAX_STEP[field]:
        raise Reject(f"step {step} is larger than the field's range")


_LAST_OFFSET = re.compile(r"L-[0-9]*W?")


def scan(text: str, field: Field) -> FieldExpression:
    """Recognize one comma-separated value of a field (upper-case, no blanks), as Quartz does."""
    if not text:
        raise Reject("empty value")
    char = text[0]
    if "A" <= char <= "Z" and text not in ("L", "LW") and not _LAST_OFFSET.fullmatch(text):
        return _scan_name(text, field)
    if char == "?":
        if 2 < len(text) and text[1] != " " and text[2] != "\t":
            raise Reject(f"illegal character after '?': {text[1]}")
        if field not in (Field.DAY_OF_MONTH, Field.DAY_OF_WEEK):
            raise Reject("'?' can only be specified for day-of-month or day-of-week")
        return NoSpecificValue()
    if char in "*/":
        return _scan_every(text, field)
    if char == "L":
        return _scan_last(text, field)
    if not "0" <= char <= "9":
        raise Reject(f"unexpected character: {char}")
    value = int(char)
    if len(text) == 1:
        return Value(value)
    index = 1
    if "0" <= text[1] <= "9":
        value, index = _digits_from(value, text, 1)
    return _scan_after_number(text, index, value, field)


def _scan_name(text: str, field: Field) -> FieldExpression:
    if len(text) < 3:
        raise Reject(f"unexpected characters '{text}'")
    name = text[:3]
    if field is Field.MONTH:
        start = _named(MONTH_NAMES, name, "month")
        if len(text) > 3 and text[3] == "-":
            return Range(start, _named_range_end(text, MONTH_NAMES, "month"), 1)
        return Value(start)
    if field is not Field.DAY_OF_WEEK:
        raise Reject(f"illegal characters for this position: '{name}'")
    start = _named(DAY_NAMES, name, "day-of-week")
    follower = text[3] if len(text) > 3 else ""
    if follower == "-":
        return Range(start, _named_range_end(text, DAY_NAMES, "day-of-week"), 1)
    if follower == "#":
        return NthWeekdayOfMonth(start, _nth(text[4:]), checked=True)
    if follower == "L":
        return LastWeekdayOfMonth(start, checked=True)
    return Value(start)


def _named(names: dict[str, int], name: str, what: str) -> int:
    value = names.get(name)
    if value is None:
        raise Reject(f"invalid {what} value: '{name}'")
    return value


def _named_range_end(text: str, names: dict[str, int], what: str) -> int:
    """The name after `-` in `JAN-MAR` / `MON-FRI` (its first three letters, as Quartz reads it)."""
    end_name = text[4:7]
    if len(end_name) < 3:
        raise Reject("the value ends unexpectedly")
    return _named(names, end_name, what)


def _nth(text: str) -> int:
    try:
        nth = _java_int(text)
    except Reject:
        nth = 0
    if not 1 <= nth <= 5:
        raise Reject("a numeric value between 1 and 5 must follow the '#' option")
    return nth


def _scan_every(text: str, field: Field) -> FieldExpression:
    char = text[0]
    if char == "*" and len(text) == 1:
        return Every(0)
    if char == "/" and (len(text) == 1 or text[1] in " \t"):
        raise Reject("'/' must be followed by an integer")
    index = 1 if char == "*" else 0
    if text[index] != "/":
        return Every(1)
    index += 1
    if index >= len(text):
        raise Reject("'/' must be followed by an integer")
    step = _java_int(text[index:])
    _check_step(step, field)
    return Every(step)


def _scan_last(text: str, field: Field) -> FieldExpression:
    if field is Field.DAY_OF_WEEK:
        return Value(7)
    if field is not Field.DAY_OF_MONTH:
        return NoValue()
    index, offset, weekday = 1, 0, False
    if len(text) > index and text[index] == "-":
        _char_at(text, index + 1)
        offset, index = _digits_from(0, text, index + 1)
        if offset > 30:
            raise Reject("offset from last day must be <= 30")
    if len(text) > index and text[index] == "W":
        weekday = True
    return LastDayOfMonth(offset, weekday)


def _scan_after_number(text: str, index: int, value: int, field: Field) -> FieldExpression:
    """Quartz's `checkNext`: what follows a number decides the form."""
    if index >= len(text):
        return Value(value)
    char = text[index]
    if char == "L":
        if field is not Field.DAY_OF_WEEK:
            raise Reject("'L' option is not valid here")
        if not 1 <= value <= 7:
            raise Reject("day-of-week values must be between 1 and 7")
        return LastWeekdayOfMonth(value)
    if char == "W":
        if field is not Field.DAY_OF_MONTH:
            raise Reject("'W' option is not valid here")
        if value > 31:
            raise Reject("the 'W' option does not make sense with values larger than 31")
        return NearestWeekday(value)
    if char == "#":
        if field is not Field.DAY_OF_WEEK:
            raise Reject("'#' option is not valid here")
        return NthWeekdayOfMonth(value, _nth(text[index + 1 :]))
    if char == "-":
        return _scan_range(text, index + 1, value)
    if char != "/":
        return Value(value)
    return _scan_start_step(text, index, value, field)


def _scan_range(text: str, index: int, value: int) -> FieldExpression:
    """`value-end` or `value-end/step`, `index` just after the `-` (the step is not range-checked)."""
    end = _digit(_char_at(text, index))
    index += 1
    if index >= len(text):
        return Range(value, end, 1)
    if "0" <= text[index] <= "9":
        end, index = _digits_from(end, text, index)
    if index >= len(text) or text[index] != "/":
        return Range(value, end, 1)
    index += 1
    step = _digit(_char_at(text, index))
    index += 1
    if index < len(text) and "0" <= text[index] <= "9":
        step, index = _digits_from(step, text, index)
    return Range(value, end, step)


def _scan_start_step(text: str, index: int, value: int, field: Field) -> FieldExpression:
    """`value/step`, `index` at the `/`."""
    if index + 1 >= len(text) or text[index + 1] in " \t":
        raise Reject("'/' must be followed by an integer")
    index += 1
    step = _digit(text[index])
    index += 1
    if index < len(text):
        if not "0" <= text[index] <= "9":
            raise Reject(f"unexpected character '{text[index]}' after '/'")
        step, index = _digits_from(step, text, index)
    _check_step(step, field)
    return StartStep(value, step)
