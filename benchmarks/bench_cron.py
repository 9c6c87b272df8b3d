"""Benchmark: our Quartz cron engine against croniter, on the differential-test corpus.

    .venv/bin/python benchmarks/bench_cron.py [--repeat 7] [-n 5]      (or: make bench)

Takes the corpus's valid cases (tests/component/domain/cron/corpus/) that croniter can express, translated
from Quartz to croniter's dialect (`?` -> `*`, day-of-week 1-7 -> 0-6, `6L` -> `L5`, `6#3` -> `5#3`;
cases with `W`, `LW`, `L-n`, Quartz quirks or anything croniter raises on are left out), and times
"the next n fire times after the start, in the case's zone" for both, parsing included:

    ours:     QuartzCron.parse(expr).next_fire_times(after=start, zone=tz, n=n)
    croniter: c = croniter(expr, start_in_zone, second_at_beginning=True); n x c.get_next(datetime)

Prints both times (best of the repetitions, and the median), the ratio ours/croniter (lower is
better) and, for information, on how many cases croniter's answers equal ours (they differ by
design around DST changes, where we follow Quartz).
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

from croniter import croniter

from taskcenter.domain.cron import QuartzCron, parse_zone

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "component" / "domain" / "cron" / "corpus" / "corpus.tsv"
LABELS = ROOT / "tests" / "component" / "domain" / "cron" / "corpus" / "labels.tsv"

_DAY_NUMBERS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_ITEM = re.compile(r"^(\*|\d+|[A-Z]{3})(?:-(\d+|[A-Z]{3}))?(?:/(\d+))?$")


class Untranslatable(ValueError):
    pass


def _day_of_week(field: str) -> str:
    """Quartz day-of-week (1-7, 1 = Sunday) -> croniter (0-6, 0 = Sunday)."""
    if field in ("*", "?"):
        return "*"
    items = []
    for item in field.split(","):
        if m := re.fullmatch(r"(\d|[A-Z]{3})#([1-5])", item):
            items.append(f"{_day_number(m[1]) - 1}#{m[2]}")
        elif m := re.fullmatch(r"(\d|[A-Z]{3})L", item):
            items.append(f"L{_day_number(m[1]) - 1}")
        elif m := _ITEM.fullmatch(item):
            start, end, step = m[1], m[2], m[3]
            text = start if start == "*" else str(_day_number(start) - 1)
            if end is not None:
                text += f"-{_day_number(end) - 1}"
            if step is not None:
                text += f"/{step}"
            items.append(text)
        else:
            raise Untranslatable(item)
    return ",".join(items)


def _day_number(token: str) -> int:
    number = _DAY_NUMBERS[token] if token in _DAY_NUMBERS else int(token)
    if not 1 <= number <= 7:
        raise Untranslatable(token)
    return number


def to_croniter(expression: str) -> str:
    """The croniter form of a Quartz expression, or `Untranslatable`."""
    fields = expression.upper().split()
    if len(fields) not in (6, 7):
        raise Untranslatable("field count")
    if any("W" in f.replace("WED", "") or "L-" in f for f in fields):
        raise Untranslatable("W / LW / L-n")
    for i in range(3):  # the shorthand "/5" is "0/5"
        fields[i] = ",".join("0" + item if item.startswith("/") else item for item in fields[i].split(","))
    for f in fields[:5] + fields[6:]:
        for item in f.split(","):
            if item != "?" and item != "L" and not _ITEM.fullmatch(item):
                raise Untranslatable(item)
    fields[3] = "*" if fields[3] == "?" else fields[3]
    fields[5] = _day_of_week(fields[5])
    return " ".join(fields)


def load_cases() -> list[tuple[str, str, datetime, tzinfo]]:
    """(quartz expr, croniter expr, start, zone) for the valid corpus cases croniter can run."""
    cases = []
    corpus = CORPUS.read_text(encoding="utf-8").splitlines()
    labels = LABELS.read_text(encoding="utf-8").splitlines()
    for line, label in zip(corpus, labels, strict=True):
        kind, _, tags = label.partition("\t")
        if kind != "valid" or "quirk" in tags.split(","):
            continue
        expression, zone_id, start_text, _ = line.split("\t")
        try:
            translated = to_croniter(expression)
            zone = parse_zone(zone_id)
            start = datetime.fromisoformat(start_text)
            cron = croniter(translated, start.astimezone(zone), second_at_beginning=True)
            for _ in range(5):
                cron.get_next(datetime)
        except Exception:  # noqa: BLE001 - anything croniter cannot do is simply not benchmarked
            continue
        cases.append((expression, translated, start, zone))
    return cases


def ours(cases: list[tuple[str, str, datetime, tzinfo]], n: int) -> list[list[datetime]]:
    return [QuartzCron.parse(expr).next_fire_times(after=start, zone=zone, n=n) for expr, _, start, zone in cases]


def theirs(cases: list[tuple[str, str, datetime, tzinfo]], n: int) -> list[list[datetime]]:
    answers = []
    for _, expr, start, zone in cases:
        cron = croniter(expr, start.astimezone(zone), second_at_beginning=True)
        answers.append([cron.get_next(datetime) for _ in range(n)])
    return answers


def timings(run: Callable[[], object], repeat: int) -> list[float]:
    results = []
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        run()
        results.append(time.perf_counter() - began)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the Quartz cron engine against croniter.")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions (default 7)")
    parser.add_argument("-n", type=int, default=5, help="fire times per case (default 5)")
    args = parser.parse_args()

    cases = load_cases()
    total = len(CORPUS.read_text(encoding="utf-8").splitlines())
    print(f"corpus: {total} cases; {len(cases)} valid cases croniter can express (W, LW, L-n, quirks left out)")
    if not cases:
        print("nothing to benchmark")
        return 0

    ours(cases, args.n)  # warm-up: zone rules, imports
    theirs(cases, args.n)
    our_times = timings(lambda: ours(cases, args.n), args.repeat)
    their_times = timings(lambda: theirs(cases, args.n), args.repeat)

    def show(name: str, values: list[float]) -> None:
        best, median = min(values), statistics.median(values)
        print(
            f"{name:9s} best {best * 1000:8.1f} ms   median {median * 1000:8.1f} ms   ({best / len(cases) * 1e6:6.1f} "
            "us/case)"
        )

    print(f"{args.repeat} repetitions, next {args.n} fire times per case, parsing included")
    show("ours", our_times)
    show("croniter", their_times)
    ratio = min(our_times) / min(their_times)
    median_ratio = statistics.median(our_times) / statistics.median(their_times)
    print(f"ours/croniter (best of {args.repeat}): {ratio:.2f}   (median: {median_ratio:.2f}; lower is better)")

    def iso(values: list[datetime]) -> list[str]:
        return [value.isoformat(timespec="seconds") for value in values]

    agree = sum(iso(a) == iso(b) for a, b in zip(ours(cases, args.n), theirs(cases, args.n), strict=True))
    print(f"croniter agrees with ours on {agree} of {len(cases)} cases (informational)")
    print(f"ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
