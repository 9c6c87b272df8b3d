"""The Quartz 2.3 cron engine: pure Python, judged by the real Quartz jar (see docs/cron.md).

    cron = QuartzCron.parse("0 0/15 9-17 ? * MON-FRI")
    cron.next_fire_times(after=datetime.now(timezone.utc), zone=parse_zone("Asia/Shanghai"), n=5)
"""

from __future__ import annotations

from taskcenter.domain.cron.errors import CronError, CronSyntaxError, InvalidZoneError
from taskcenter.domain.cron.quartz import QuartzCron
from taskcenter.domain.cron.zones import parse_zone

__all__ = ["CronError", "CronSyntaxError", "InvalidZoneError", "QuartzCron", "parse_zone"]
