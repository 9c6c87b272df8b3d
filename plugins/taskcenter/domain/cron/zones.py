"""Time zone ids as Quartz users write them, resolved to `tzinfo`, strictly.

Java's `TimeZone.getTimeZone` (which Quartz uses) accepts IANA ids and the custom form
`GMT Sign Hours[[:]Minutes]`, and silently returns GMT for anything else. We accept the same ids
and reject everything else, so a typo never turns into a schedule in the wrong zone.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from taskcenter.domain.cron.errors import InvalidZoneError

# Java's custom id grammar (ZoneInfoFile.parseCustomTimeZone): GMT, a sign, 1-2 hour digits with
# an optional ":MM", or 3-4 digits read as [H]HMM. Hours <= 23, minutes <= 59.
_CUSTOM = re.compile(r"GMT(?P<sign>[+-])(?:(?P<h>\d{1,2}):(?P<m>\d{2})|(?P<digits>\d{1,4}))", re.ASCII)
# Files of the tz database that are not zones, and `ROC`, a legacy alias Java does not know.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules", "ROC"})


@lru_cache(maxsize=1)
def _iana_ids() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def _fixed(zone: str) -> tzinfo | None:
    if zone in ("UTC", "GMT"):
        return timezone(timedelta(0), zone)
    match = _CUSTOM.fullmatch(zone)
    if match is None:
        return None
    if match["digits"] is not None:
        digits = match["digits"]
        hours, minutes = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
    else:
        hours, minutes = int(match["h"]), int(match["m"])
    if hours > 23 or minutes > 59:
        raise InvalidZoneError(zone, "offset out of range in time zone")
    offset = timedelta(hours=hours, minutes=minutes)
    if match["sign"] == "-":
        offset = -offset
    if not offset:
        return timezone(offset, "GMT")
    sign = "+" if offset > timedelta(0) else "-"
    return timezone(offset, f"GMT{sign}{hours:02d}:{minutes:02d}")


@lru_cache(maxsize=512)
def parse_zone(zone: str) -> tzinfo:
    """Resolve a zone id; raise `InvalidZoneError` for anything Java would silently turn into GMT."""
    if not isinstance(zone, str) or not zone:
        raise InvalidZoneError(str(zone), "empty time zone")
    fixed = _fixed(zone)
    if fixed is not None:
        return fixed
    if zone in _iana_ids():
        return ZoneInfo(zone)
    raise InvalidZoneError(zone)
