from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from taskcenter.domain.cron import InvalidZoneError, parse_zone


@pytest.mark.parametrize(
    ("zone", "offset"),
    [
        ("UTC", timedelta(0)),
        ("GMT", timedelta(0)),
        ("GMT+8", timedelta(hours=8)),
        ("GMT+08", timedelta(hours=8)),
        ("GMT+08:00", timedelta(hours=8)),
        ("GMT+0800", timedelta(hours=8)),
        ("GMT+830", timedelta(hours=8, minutes=30)),
        ("GMT-03:30", -timedelta(hours=3, minutes=30)),
        ("GMT-0530", -timedelta(hours=5, minutes=30)),
        ("GMT+23:59", timedelta(hours=23, minutes=59)),
    ],
)
def test_fixed_zones(zone: str, offset: timedelta) -> None:
    assert parse_zone(zone).utcoffset(None) == offset


def test_iana_zones() -> None:
    assert parse_zone("Asia/Shanghai") == ZoneInfo("Asia/Shanghai")
    assert parse_zone("America/New_York").utcoffset(datetime(2025, 7, 1)) == timedelta(hours=-4)


@pytest.mark.parametrize(
    "zone",
    [
        "",
        "Mars/Base",
        "asia/shanghai",
        "UTC+8",
        "UTC+08:00",
        "+08:00",
        "Z",
        "utc",
        "gmt+8",
        "GMT+24:00",
        "GMT+8:60",
        "GMT+12345",
        "GMT+",
        "GMT+8:5",
        "Asia/Shang_hai",
        "Factory",
        "posixrules",
        "../etc/passwd",
        "/usr/share/zoneinfo/UTC",
    ],
)
def test_anything_java_would_turn_into_gmt_is_rejected(zone: str) -> None:
    with pytest.raises(InvalidZoneError) as caught:
        parse_zone(zone)
    assert repr(zone) in str(caught.value) or not zone
