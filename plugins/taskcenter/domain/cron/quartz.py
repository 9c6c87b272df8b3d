"""`QuartzCron`: a parsed Quartz 2.3 cron expression and its fire times in a zone.

`next_fire_time` is a port of Quartz 2.3.2's `CronExpression.getTimeAfter`, run on a calendar that
resolves wall times exactly as `java.util.GregorianCalendar` does (see `calendar.py`); that is
what reproduces Quartz's behaviour in DST gaps and overlaps, at month ends and at the year
ceiling. The differential test in tests/component/domain/cron compares it with the real Quartz jar.
"""

from __future__ import annotations

import functools
from calendar import timegm
from dataclasses import dataclass
from datetime import datetime, tzinfo

from taskcenter.domain.cron.calendar import (
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    HOUR_OF_DAY,
    MINUTE,
    MONTH,
    SECOND,
    YEAR,
    LenientCalendar,
    ZoneRules,
    last_day_of_month,
)
from taskcenter.domain.cron.errors import CronError, CronSyntaxError
from taskcenter.domain.cron.expressions import Every, Reject, scan
from taskcenter.domain.cron.fields import NO_SPEC, Field, FieldSets, SortedValues
from taskcenter.domain.cron.unix import UnixCron, convert, is_unix, split_fields

# Quartz stops searching past this year whatever the year field says.
LAST_SEARCHED_YEAR = 2999
# A guard against a search that never ends; Quartz's own searches end within ~100 years of months.
_MAX_STEPS = 200_000
_JAVA_TRIM = "".join(chr(c) for c in range(33))


def default_max_year() -> int:
    """Quartz's MAX_YEAR: the current year + 100 (computed when the JVM loads the class)."""
    return datetime.now().year + 100


class _Invalid(Exception):
    """Quartz rejects the expression: in which field (None: the whole), why, and at which value.

    Parsing raises this, and `QuartzCron.parse` words the `CronSyntaxError` from what the user
    wrote, so a 5-field cron's error names its Unix field and quotes the user's own value.
    """

    def __init__(self, field: Field | None, reason: str, item: int | None = None) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.item = item  # index of the comma-separated value in the field, when one is at fault


def _build(expression: str, max_year: int) -> FieldSets:
    """Quartz's `buildExpression`: split into fields, scan each comma-separated value."""
    sets = FieldSets(max_year=max_year)
    tokens = split_fields(expression.upper())
    if len(tokens) < 6:
        raise _Invalid(
            None,
            f"expected 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]), got {len(tokens)}",
        )
    for field, token in zip(Field, tokens, strict=False):
        text = token.strip(_JAVA_TRIM)
        if field is Field.DAY_OF_MONTH and "L" in text and len(text) > 1 and "," in text:
            raise _Invalid(field, "'L' and 'LW' cannot be combined with other days of the month")
        if field is Field.DAY_OF_WEEK and "L" in text and len(text) > 1 and "," in text:
            raise _Invalid(field, "'L' cannot be combined with other days of the week")
        if field is Field.DAY_OF_WEEK and text.count("#") > 1:
            raise _Invalid(field, "only one 'n#k' value is supported")
        for index, value in enumerate(text.split(",")):
            if not value:
                continue
            try:
                scan(value, field).apply(sets, field)
            except Reject as exc:
                if exc.field is not None:  # the fault is in another field: name that one
                    raise _Invalid(exc.field, exc.reason) from None
                raise _Invalid(field, exc.reason, index) from None
    if len(tokens) == 6:
        Every(0).apply(sets, Field.YEAR)
    return sets


_NO_VALUE = "no value (a lone 'L' or ',' gives nothing to fire at)"


def _check_evaluable(sets: FieldSets) -> tuple[bool, bool]:
    """Reject what Quartz parses but cannot evaluate (it throws on the first fire time)."""
    day_of_month_spec = NO_SPEC not in sets.sets[Field.DAY_OF_MONTH]
    day_of_week_spec = NO_SPEC not in sets.sets[Field.DAY_OF_WEEK]
    if day_of_month_spec == day_of_week_spec:
        raise _Invalid(Field.DAY_OF_MONTH, "specify '?' in exactly one of day-of-month and day-of-week")
    for field in (Field.SECOND, Field.MINUTE, Field.HOUR, Field.MONTH):
        if not sets.sets[field]:
            raise _Invalid(field, _NO_VALUE)
    if day_of_month_spec and not sets.last_day_of_month and not sets.sets[Field.DAY_OF_MONTH]:
        raise _Invalid(Field.DAY_OF_MONTH, _NO_VALUE)
    if day_of_week_spec and not sets.sets[Field.DAY_OF_WEEK]:
        raise _Invalid(Field.DAY_OF_WEEK, _NO_VALUE)
    return day_of_month_spec, day_of_week_spec


def _syntax_error(invalid: _Invalid, expression: str, unix: UnixCron | None) -> CronSyntaxError:
    """The error as the user will read it: their field's name, their own spelling of the value."""
    if invalid.field is None:
        return CronSyntaxError(field="expression", reason=invalid.reason)
    if unix is not None:
        label, written = unix.label(invalid.field), unix.written[invalid.field]
    else:
        label, written = invalid.field.label, split_fields(expression)[invalid.field]
    if invalid.item is None:
        return CronSyntaxError(field=label, reason=invalid.reason)
    items = written.strip(_JAVA_TRIM).split(",")
    value = items[invalid.item] if invalid.item < len(items) else written
    return CronSyntaxError(field=label, reason=f"{invalid.reason} (in '{value}')")


def _set_hour(cal: LenientCalendar, hour: int) -> None:
    """Quartz's `setCalendarHour`: an hour lost to a DST gap moves to the next hour."""
    cal.set(HOUR_OF_DAY, hour)
    if cal.get(HOUR_OF_DAY) != hour and hour != 24:
        cal.set(HOUR_OF_DAY, hour + 1)


def _clear_time(cal: LenientCalendar) -> None:
    cal.set(SECOND, 0)
    cal.set(MINUTE, 0)
    cal.set(HOUR_OF_DAY, 0)


@dataclass(frozen=True, eq=False)
class QuartzCron:
    """A valid Quartz expression. Build it with `QuartzCron.parse`."""

    expression: str
    source: str
    seconds: SortedValues
    minutes: SortedValues
    hours: SortedValues
    days_of_month: SortedValues
    months: SortedValues
    days_of_week: SortedValues
    years: SortedValues
    last_day_of_week: bool
    nth_day_of_week: int
    last_day_of_month: bool
    nearest_weekday: bool
    last_day_offset: int
    day_of_month_spec: bool
    max_year: int

    @classmethod
    def parse(cls, text: str, *, max_year: int | None = None) -> QuartzCron:
        """Parse a Quartz expression (6 or 7 fields) or a 5-field Unix cron; raise `CronSyntaxError`.

        A parsed expression is immutable and kept (up to `PARSED_KEPT` of them): a request that
        validates an expression, publishes its plan and shows its next fire time parses it once,
        and a timetable does not parse its expressions again for every scheduling decision.
        """
        if not isinstance(text, str) or not text.strip():
            raise CronSyntaxError(field="expression", reason="empty cron expression")
        return _parse(text, default_max_year() if max_year is None else max_year)

    @classmethod
    def _build(cls, text: str, max_year: int) -> QuartzCron:
        source = text
        unix = convert(text) if is_unix(text) else None
        expression = text.strip() if unix is None else unix.quartz
        try:
            sets = _build(expression, max_year)
            day_of_month_spec, _ = _check_evaluable(sets)
        except _Invalid as invalid:
            raise _syntax_error(invalid, expression, unix) from None
        values = {field: SortedValues(sets.sets[field]) for field in Field}
        return cls(
            expression=expression,
            source=source,
            seconds=values[Field.SECOND],
            minutes=values[Field.MINUTE],
            hours=values[Field.HOUR],
            days_of_month=values[Field.DAY_OF_MONTH],
            months=values[Field.MONTH],
            days_of_week=values[Field.DAY_OF_WEEK],
            years=values[Field.YEAR],
            last_day_of_week=sets.last_day_of_week,
            nth_day_of_week=sets.nth_day_of_week,
            last_day_of_month=sets.last_day_of_month,
            nearest_weekday=sets.nearest_weekday,
            last_day_offset=sets.last_day_offset,
            day_of_month_spec=day_of_month_spec,
            max_year=sets.max_year,
        )

    def __repr__(self) -> str:
        return f"QuartzCron({self.expression!r})"


    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuartzCron) and (self.expression, self.max_year) == (other.expression, other.max_year)

    def __hash__(self) -> int:
        return hash((self.expression, self.max_year))

    def next_fire_time(self, after: datetime, zone: tzinfo) -> datetime | None:
        """The first fire time strictly after `after` (milliseconds dropped), in `zone`; None if none."""
        rules = ZoneRules.for_zone(zone)
        epoch = self._time_after(_epoch_seconds(after), rules)
        return None if epoch is None else datetime.fromtimestamp(epoch, zone)

    def next_fire_times(self, after: datetime, zone: tzinfo, n: int) -> list[datetime]:
        """Up to `n` fire times after `after`; fewer when the schedule ends."""
        rules = ZoneRules.for_zone(zone)
        epoch = _epoch_seconds(after)
        times: list[datetime] = []
        while len(times) < n:
            found = self._time_after(epoch, rules)
            if found is None:
                break
            times.append(datetime.fromtimestamp(found, zone))
            epoch = found
        return times

    def _nearest_weekday_time(
        self, *, rules: ZoneRules, year: int, month: int, day: int, hms: tuple[int, int, int]
    ) -> tuple[int, int]:
        """Quartz's scratch-calendar step for `W`: (the adjusted day, its instant at the matched time)."""
        scratch = LenientCalendar(rules, 0)
        for field, value in (
            (SECOND, 0),
            (MINUTE, 0),
            (HOUR_OF_DAY, 0),
            (DAY_OF_MONTH, day),
            (MONTH, month - 1),
            (YEAR, year),
        ):
            scratch.set(field, value)
        last = last_day_of_month(month, year)
        weekday = scratch.get(DAY_OF_WEEK)
        if weekday == 7 and day == 1:
            day += 2
        elif weekday == 7:
            day -= 1
        elif weekday == 1 and day == last:
            day -= 2
        elif weekday == 1:
            day += 1
        second, minute, hour = hms
        for field, value in (
            (SECOND, second),
            (MINUTE, minute),
            (HOUR_OF_DAY, hour),
            (DAY_OF_MONTH, day),
            (MONTH, month - 1),
        ):
            scratch.set(field, value)
        return day, scratch.time()

    def _time_after(self, after: int, rules: ZoneRules) -> int | None:  # noqa: C901 - a faithful port
        after_time = after + 1
        cal = LenientCalendar(rules, after_time)
        visited: set[int] = set()
        for _ in range(_MAX_STEPS):
            if cal.get(YEAR) > LAST_SEARCHED_YEAR:
                return None
            # Quartz's search can cycle (e.g. `L-10W` around some DST changes) and then never
            # returns; the state is the calendar's instant, so a repeat means it never will.
            state = cal.time()
            if state in visited:
                raise CronError(
                    f"Quartz finds no next fire time for {self.expression!r} after this instant in this zone "
                    "(its search loops forever here)"
                )
            visited.add(state)
            # seconds
            sec = cal.get(SECOND)
            minute = cal.get(MINUTE)
            found = self.seconds.ceiling(sec)
            if found is not None:
                sec = found
            else:
                sec = self.seconds.first()
                minute += 1
                cal.set(MINUTE, minute)
            cal.set(SECOND, sec)
            # minutes
            minute = cal.get(MINUTE)
            hour = cal.get(HOUR_OF_DAY)
            t = -1
            found = self.minutes.ceiling(minute)
            if found is not None:
                t, minute = minute, found
            else:
                minute = self.minutes.first()
                hour += 1
            if minute != t:
                cal.set(SECOND, 0)
                cal.set(MINUTE, minute)
                _set_hour(cal, hour)
                continue
            cal.set(MINUTE, minute)
            # hours
            hour = cal.get(HOUR_OF_DAY)
            day = cal.get(DAY_OF_MONTH)
            t = -1
            found = self.hours.ceiling(hour)
            if found is not None:
                t, hour = hour, found
            else:
                hour = self.hours.first()
                day += 1
            if hour != t:
                cal.set(SECOND, 0)
                cal.set(MINUTE, 0)
                cal.set(DAY_OF_MONTH, day)
                _set_hour(cal, hour)
                continue
            cal.set(HOUR_OF_DAY, hour)
            # days
            day = cal.get(DAY_OF_MONTH)
            month = cal.get(MONTH) + 1
            t = -1
            t_month = month
            if self.day_of_month_spec:
                found = self.days_of_month.ceiling(day)
                if self.last_day_of_month:
                    t = day
                    day = last_day_of_month(month, cal.get(YEAR)) - self.last_day_offset
                    if not self.nearest_weekday:
                        if t > day:
                            month += 1
                            if month > 12:
                                month = 1
                                t_month = 3333
                                cal.add_year(1)
                            day = 1
                    else:
                        day, at = self._nearest_weekday_time(
                            rules=rules, year=cal.get(YEAR), month=month, day=day, hms=(sec, minute, hour)
                        )
                        if at < after_time:
                            day = 1
                            month += 1
                elif self.nearest_weekday:
                    t = day
                    day, at = self._nearest_weekday_time(
                        rules=rules,
                        year=cal.get(YEAR),
                        month=month,
                        day=self.days_of_month.first(),
                        hms=(sec, minute, hour),
                    )
                    if at < after_time:
                        day = self.days_of_month.first()
                        month += 1
                elif found is not None:
                    t, day = day, found
                    if day > last_day_of_month(month, cal.get(YEAR)):
                        day = self.days_of_month.first()
                        month += 1
                else:
                    day = self.days_of_month.first()
                    month += 1
                if day != t or month != t_month:
                    _clear_time(cal)
                    cal.set(DAY_OF_MONTH, day)
                    cal.set(MONTH, month - 1)
                    continue
            elif self.last_day_of_week:
                weekday = self.days_of_week.first()
                current = cal.get(DAY_OF_WEEK)
                add = 0
                if current < weekday:
                    add = weekday - current
                if current > weekday:
                    add = weekday + (7 - current)
                last = last_day_of_month(month, cal.get(YEAR))
                if day + add > last:
                    _clear_time(cal)
                    cal.set(DAY_OF_MONTH, 1)
                    cal.set(MONTH, month)
                    continue
                while day + add + 7 <= last:
                    add += 7
                day += add
                if add > 0:
                    _clear_time(cal)
                    cal.set(DAY_OF_MONTH, day)
                    cal.set(MONTH, month - 1)
                    continue
            elif self.nth_day_of_week != 0:
                weekday = self.days_of_week.first()
                current = cal.get(DAY_OF_WEEK)
                add = 0
                if current < weekday:
                    add = weekday - current
                elif current > weekday:
                    add = weekday + (7 - current)
                shifted = add > 0
                day += add
                week_of_month = day // 7 + (1 if day % 7 > 0 else 0)
                add = (self.nth_day_of_week - week_of_month) * 7
                day += add
                if add < 0 or day > last_day_of_month(month, cal.get(YEAR)):
                    _clear_time(cal)
                    cal.set(DAY_OF_MONTH, 1)
                    cal.set(MONTH, month)
                    continue
                if add > 0 or shifted:
                    _clear_time(cal)
                    cal.set(DAY_OF_MONTH, day)
                    cal.set(MONTH, month - 1)
                    continue
            else:
                current = cal.get(DAY_OF_WEEK)
                weekday = self.days_of_week.first()
                found = self.days_of_week.ceiling(current)
                if found is not None:
                    weekday = found
                add = 0
                if current < weekday:
                    add = weekday - current
                if current > weekday:
                    add = weekday + (7 - current)
                if day + add > last_day_of_month(month, cal.get(YEAR)):
                    _clear_time(cal)
                    cal.set(DAY_OF_MONTH, 1)
                    cal.set(MONTH, month)
                    continue
                if add > 0:
                    _clear_time(cal)
                    cal.set(DAY_OF_MONTH, day + add)
                    cal.set(MONTH, month - 1)
                    continue
            cal.set(DAY_OF_MONTH, day)
            # months
            month = cal.get(MONTH) + 1
            year = cal.get(YEAR)
            t = -1
            if year > self.max_year:
                return None
            found = self.months.ceiling(month)
            if found is not None:
                t, month = month, found
            else:
                month = self.months.first()
                year += 1
            if month != t:
                _clear_time(cal)
                cal.set(DAY_OF_MONTH, 1)
                cal.set(MONTH, month - 1)
                cal.set(YEAR, year)
                continue
            cal.set(MONTH, month - 1)
            # years
            year = cal.get(YEAR)
            found = self.years.ceiling(year)
            if found is None:
                return None
            if found != year:
                _clear_time(cal)
                cal.set(DAY_OF_MONTH, 1)
                cal.set(MONTH, 0)
                cal.set(YEAR, found)
                continue
            cal.set(YEAR, year)
            return cal.time()
        raise CronError(f"no fire time found for {self.expression!r} within {_MAX_STEPS} search steps")


def _epoch_seconds(at: datetime) -> int:
    offset = at.utcoffset()
    if offset is None:
        raise ValueError("a fire-time search needs an aware datetime")
    # timegm on the UTC time tuple: whole seconds (milliseconds dropped, as Quartz does), and it
    # works for datetime subclasses such as pendulum's, whose subtraction returns other types.
    try:
        return timegm(at.utctimetuple())
    except OverflowError:
        # 9999-12-31 late with a negative offset is past datetime's range in UTC: count by hand
        return timegm(at.timetuple()) - (offset.days * 86400 + offset.seconds)


# How many parsed expressions are kept (a few hundred bytes each).
PARSED_KEPT = 4096


@functools.lru_cache(maxsize=PARSED_KEPT)
def _parse(text: str, max_year: int) -> QuartzCron:
    return QuartzCron._build(text, max_year)
