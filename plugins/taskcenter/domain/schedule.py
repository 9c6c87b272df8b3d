"""A plan's cron triggers as one schedule: several Quartz expressions, each in its own zone.

The schedule fires at every instant where any entry fires, and knows which entries (plan items)
fire at a given instant, so a run can record the plan item(s) that started it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from taskcenter.domain.cron import CronError, QuartzCron, parse_zone

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class CronEntry:
    """One CRON_JOB plan item: its id, Quartz expression and zone, as the API stores them."""

    item_id: int
    expression: str
    zone: str


@dataclass(frozen=True, kw_only=True)
class Fire:
    """An instant the schedule fires at (UTC) and the plan items that fire then."""

    at: datetime
    item_ids: tuple[int, ...]


@dataclass(frozen=True)
class _Compiled:
    entry: CronEntry
    cron: QuartzCron
    zone: tzinfo


class MultiZoneSchedule:
    """Parses every entry once; raises the engine's `CronError` for a bad expression or zone."""

    def __init__(self, entries: Iterable[CronEntry]) -> None:
        self.entries: tuple[CronEntry, ...] = tuple(entries)
        self._compiled = tuple(
            _Compiled(entry=e, cron=QuartzCron.parse(e.expression), zone=parse_zone(e.zone)) for e in self.entries
        )

    def next_fire(self, *, after: datetime) -> Fire | None:
        """The first instant strictly after `after` at which any entry fires, or None if none ever will."""
        best: datetime | None = None
        items: list[int] = []
        for compiled in self._compiled:
            at = self._next(compiled, after)
            if at is None:
                continue
            at = at.astimezone(timezone.utc)
            if best is None or at < best:
                best, items = at, [compiled.entry.item_id]
            elif at == best:
                items.append(compiled.entry.item_id)
        return None if best is None else Fire(at=best, item_ids=tuple(items))

    def items_firing_at(self, at: datetime) -> tuple[int, ...]:
        """The plan items whose expression fires exactly at `at` (whole seconds)."""
        just_before = at - timedelta(seconds=1)
        return tuple(
            c.entry.item_id
            for c in self._compiled
            if (fire := self._next(c, just_before)) is not None and fire == at
        )

    @staticmethod
    def _next(compiled: _Compiled, after: datetime) -> datetime | None:
        """An entry's next fire time; an entry whose search never ends (as in Quartz) is skipped, loudly."""
        try:
            return compiled.cron.next_fire_time(after, compiled.zone)
        except CronError as exc:
            log.warning("plan item %s has no computable next fire time: %s", compiled.entry.item_id, exc)
            return None


# Scheduled runs carry the plan items that fired in their run id: `<airflow run id>__items-3.7`.
ITEMS_MARKER = "__items-"


def items_suffix(item_ids: tuple[int, ...]) -> str:
    return f"{ITEMS_MARKER}{'.'.join(map(str, item_ids))}" if item_ids else ""


def fired_item_ids(run_id: str) -> tuple[int, ...]:
    """The plan item ids a scheduled run id records (empty for other runs)."""
    if ITEMS_MARKER not in run_id:
        return ()
    tail = run_id.rsplit(ITEMS_MARKER, 1)[1]
    parts = tail.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()
