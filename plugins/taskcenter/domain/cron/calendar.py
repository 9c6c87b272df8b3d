"""The part of `java.util.GregorianCalendar` that Quartz's `getTimeAfter` relies on, in a zone.

Quartz computes fire times by setting calendar fields (lenient: minute 60, day 32 or month 12
roll over) and reading them back; every read normalizes the fields through an instant. Its DST
behaviour comes entirely from how Java turns a wall time into an instant: in a gap and in an
overlap alike, Java takes the *smaller* of the two candidate offsets ("standard time"), so
02:30 in a spring-forward gap becomes 03:30 DST and 01:30 in a fall-back overlap is the later,
standard-time instant. Reproducing that exactly is what makes the engine agree with Quartz.

Times are whole epoch seconds; dates use the proleptic Gregorian calendar (Quartz's years are
>= 1970, where Java's calendar is Gregorian too).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache

_UTC = timezone.utc
_EPOCH_NAIVE = datetime(1970, 1, 1)
# Quartz gives up past year 2999; instants beyond these bounds (a year field like `99999`) are only
# compared against that ceiling, so the offset of the bound is good enough for them.
_MIN_EPOCH = -2208988800  # 1900
_MAX_EPOCH = 253402300800 - 86400 * 400 * 3  # about year 8800


# Java's `Calendar` field numbers, so the port reads like the original (plain ints: hot path).
YEAR = 1
MONTH = 2  # 0-based, as in Java
DAY_OF_MONTH = 5
DAY_OF_WEEK = 7  # 1 = Sunday ... 7 = Saturday
HOUR_OF_DAY = 11
MINUTE = 12
SECOND = 13


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month 1..12, day) of a day count since 1970-01-01."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def is_leap_year(year: int) -> bool:
    return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0


def last_day_of_month(month: int, year: int) -> int:
    """Days in `month` (1..12) of `year`."""
    if month == 2:
        return 29 if is_leap_year(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


class ZoneRules:
    """Offsets of one zone, with Java's rule for wall times in gaps and overlaps.

    Offsets change a few times a year at most, so each UTC day remembers whether the offset is
    the same from the day before to the day after; lookups inside such a window are a dict hit,
    and only days next to a transition take the exact (zoneinfo) path.
    """

    __slots__ = ("tz", "_fixed", "_stable")

    _CACHE_LIMIT = 50_000

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        fixed = tz.utcoffset(None) if isinstance(tz, timezone) else None
        self._fixed: int | None = None if fixed is None else int(fixed.total_seconds())
        self._stable: dict[int, int | None] = {}

    @classmethod
    @lru_cache(maxsize=256)
    def for_zone(cls, tz: tzinfo) -> ZoneRules:
        return cls(tz)

    def _exact_offset(self, epoch: int) -> int:
        at = datetime.fromtimestamp(min(max(epoch, _MIN_EPOCH), _MAX_EPOCH), self.tz)
        return int(_utcoffset(at).total_seconds())

    def _stable_offset(self, day: int) -> int | None:
        """The offset if it is constant from the start of `day - 1` to the end of `day + 1` (UTC)."""
        try:
            return self._stable[day]
        except KeyError:
            pass
        before = self._exact_offset((day - 1) * 86400)
        after = self._exact_offset((day + 2) * 86400 - 1)
        middle = self._exact_offset(day * 86400 + 43200)
        offset = before if before == after == middle else None
        if len(self._stable) >= self._CACHE_LIMIT:
            self._stable.clear()
        self._stable[day] = offset
        return offset

    def offset_at(self, epoch: int) -> int:
        """UTC offset in seconds at an instant."""
        if self._fixed is not None:
            return self._fixed
        offset = self._stable_offset(epoch // 86400)
        return self._exact_offset(epoch) if offset is None else offset

    def is_stable_around(self, wall: int) -> bool:
        """True when the offset is the same all around this wall time (no transition nearby)."""
        return self._fixed is not None or self._stable_offset(wall // 86400) is not None

    def wall_to_epoch(self, wall: int) -> int:
        """The instant of a wall-clock time (seconds since 1970-01-01 local), as Java resolves it."""
        if self._fixed is not None:
            return wall - self._fixed
        # |offset| < 1 day, so the instant lies within a day of `wall`: inside the stable window.
        offset = self._stable_offset(wall // 86400)
        if offset is not None:
            return wall - offset
        naive = _EPOCH_NAIVE + timedelta(seconds=min(max(wall, _MIN_EPOCH), _MAX_EPOCH))
        earlier = _utcoffset(naive.replace(tzinfo=self.tz))
        later = _utcoffset(naive.replace(tzinfo=self.tz, fold=1))
        return wall - int(min(earlier, later).total_seconds())


class LenientCalendar:
    """A lenient Gregorian calendar in one zone, holding the six fields Quartz sets and reads."""

    __slots__ = ("_zone", "_fields", "_epoch", "_dirty")

    def __init__(self, zone: ZoneRules, epoch: int) -> None:
        self._zone = zone
        self._fields = [0] * 14
        self._epoch = 0
        self._dirty = False
        self.set_time(epoch)

    def set_time(self, epoch: int) -> None:
        self._epoch = epoch
        self._compute_fields()

    def time(self) -> int:
        """The instant, in epoch seconds (Java's `getTime()`)."""
        if self._dirty:
            self._complete()
        return self._epoch

    def get(self, field: int) -> int:
        if self._dirty:
            self._complete()
        return self._fields[field]

    def set(self, field: int, value: int) -> None:
        self._fields[field] = value
        self._dirty = True

    def add_year(self, amount: int) -> None:
        """Java's `add(YEAR, n)`: same month and day, pinned to the month's last day."""
        if self._dirty:
            self._complete()
        f = self._fields
        f[YEAR] += amount
        f[DAY_OF_MONTH] = min(
            f[DAY_OF_MONTH], last_day_of_month(f[MONTH] + 1, f[YEAR])
        )
        self._dirty = True

    def _complete(self) -> None:
        f = self._fields
        year, month0 = divmod(f[MONTH], 12)
        year += f[YEAR]
        days = days_from_civil(year, month0 + 1, 1) + f[DAY_OF_MONTH] - 1
        hour, minute, second, day = f[HOUR_OF_DAY], f[MINUTE], f[SECOND], f[DAY_OF_MONTH]
        wall = days * 86400 + hour * 3600 + minute * 60 + second
        self._epoch = self._zone.wall_to_epoch(wall)
        # Fast path: fields already in range and the offset constant around them, so reading
        # them back through the instant would give them unchanged.
        if (
            0 <= hour < 24
            and 0 <= minute < 60
            and 0 <= second < 60
            and 1 <= day <= 28 + (day > 28) * (last_day_of_month(month0 + 1, year) - 28)
            and self._zone.is_stable_around(wall)
        ):
            f[YEAR] = year
            f[MONTH] = month0
            f[DAY_OF_WEEK] = (days + 4) % 7 + 1
            self._dirty = False
            return
        self._compute_fields()

    def _compute_fields(self) -> None:
        days, seconds = divmod(self._epoch + self._zone.offset_at(self._epoch), 86400)
        year, month, day = civil_from_days(days)
        f = self._fields
        f[YEAR] = year
        f[MONTH] = month - 1
        f[DAY_OF_MONTH] = day
        f[DAY_OF_WEEK] = (days + 4) % 7 + 1
        f[HOUR_OF_DAY], rest = divmod(seconds, 3600)
        f[MINUTE], f[SECOND] = divmod(rest, 60)
        self._dirty = False


def _utcoffset(at: datetime) -> timedelta:
    """The UTC offset of an aware datetime (a zone that answers None for it is a broken tzinfo)."""
    offset = at.utcoffset()
    if offset is None:
        raise ValueError(f"{at.tzinfo!r} gives no UTC offset for {at.replace(tzinfo=None)}")
    return offset
