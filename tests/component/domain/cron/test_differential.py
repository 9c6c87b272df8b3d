"""Differential test: our Quartz cron engine against the real Quartz 2.3.2 jar.

Both answer the same corpus (`corpus/corpus.tsv`, one `expr<TAB>zone<TAB>start<TAB>n` case a line):
Quartz through `quartz_driver/QuartzDriver.java`, compiled here with javac, and our engine through
`taskcenter cron next`. Valid cases must agree to the character; for invalid ones both must say
`INVALID:` (the reasons differ: ours are our own). See README.md next to this file.

The jar comes from Debian's libquartz2-java; the test fails (never skips) without it or javac.
Failure messages name the JVM and both tz database versions: Quartz's answers in a few zones depend
on the JDK (`corpus/deviations.tsv` pins those cases, where we follow the tz database on purpose).
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
import zipfile
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus" / "corpus.tsv"
LABELS = HERE / "corpus" / "labels.tsv"
DEVIATIONS = HERE / "corpus" / "deviations.tsv"
DRIVER = HERE / "quartz_driver" / "QuartzDriver.java"
QUARTZ_VERSION = "2.3.2"
QUARTZ_JARS = (
    "/usr/share/java/quartz2.jar",
    "/usr/share/java/quartz2-2.3.2.jar",
    "/usr/share/maven-repo/org/quartz-scheduler/quartz/2.3.2/quartz-2.3.2.jar",
)
INSTALL_HINT = "apt-get install libquartz2-java default-jdk-headless (or run `make test`, which installs them)"
MAX_REPORTED = 30
KINDS = ("valid", "invalid-expr", "invalid-zone")


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return _read_lines(CORPUS)


@pytest.fixture(scope="module")
def labels() -> list[tuple[str, set[str]]]:
    rows = []
    for line in _read_lines(LABELS):
        kind, _, tags = line.partition("\t")
        rows.append((kind, set(filter(None, tags.split(",")))))
    return rows


def _quartz_jar() -> str:
    candidates = [os.environ["QUARTZ_JAR"]] if os.environ.get("QUARTZ_JAR") else list(QUARTZ_JARS)
    for jar in candidates:
        if os.path.isfile(jar):
            return jar
    pytest.fail(f"the Quartz jar is missing (looked for {', '.join(candidates)}): {INSTALL_HINT}", pytrace=False)


def _jar_version(jar: str) -> str | None:
    try:
        with zipfile.ZipFile(jar) as archive:
            text = archive.read("META-INF/maven/org.quartz-scheduler/quartz/pom.properties").decode()
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    match = re.search(r"^version=(\S+)", text, re.MULTILINE)
    return match[1] if match else None


@dataclass(frozen=True)
class Judge:
    """The compiled driver on the real jar, and what ran it (for failure messages)."""

    command: list[str]
    runtime: str  # e.g. "Quartz 2.3.2 on Java 17.0.15 (...), tzdb 2025a; ours on tzdata 2025b (...)"


def _our_tzdata() -> str:
    """The tz database release zoneinfo reads (the system's first, as zoneinfo looks it up)."""
    for directory in zoneinfo.TZPATH:
        version_file = Path(directory) / "tzdata.zi"
        if version_file.is_file():
            first = version_file.read_text(encoding="utf-8", errors="replace").partition("\n")[0]
            return f"tzdata {first.removeprefix('# version').strip()} ({directory})"
    try:
        import tzdata  # type: ignore[import-untyped]
    except ImportError:
        return "tzdata of an unknown release"
    return f"tzdata {tzdata.IANA_VERSION} (the tzdata package)"


@pytest.fixture(scope="module")
def quartz_driver(tmp_path_factory: pytest.TempPathFactory) -> Judge:
    """The driver, compiled here, on the real Quartz jar and the installed JDK."""
    jar = _quartz_jar()
    version = _jar_version(jar)
    if version != QUARTZ_VERSION:
        found = f"Quartz {version}" if version else "of an unknown Quartz version"
        pytest.fail(f"{jar} is {found}; the judge must be Quartz {QUARTZ_VERSION}: {INSTALL_HINT}", pytrace=False)
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        pytest.fail(f"javac/java not found on PATH: {INSTALL_HINT}", pytrace=False)
    classes = tmp_path_factory.mktemp("quartz_driver")
    compiled = subprocess.run([javac, "-cp", jar, "-d", str(classes), str(DRIVER)], capture_output=True, text=True)
    assert compiled.returncode == 0, f"javac failed:\n{compiled.stderr}"
    command = [java, "-cp", os.pathsep.join([str(classes), jar]), "QuartzDriver"]
    probe = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    jvm = probe.stdout.strip() or f"an unknown JVM ({java})"
    return Judge(command, f"Quartz {QUARTZ_VERSION} on {jvm}; ours on {_our_tzdata()}")


OURS = [sys.executable, "-m", "taskcenter.cli.main", "cron", "next"]


@pytest.fixture(scope="module")
def quartz_answers(corpus: list[str], quartz_driver: Judge) -> list[str]:
    """The real Quartz's answers to the corpus."""
    return _run(quartz_driver.command, corpus, "the Quartz driver")


@pytest.fixture(scope="module")
def our_answers(corpus: list[str]) -> list[str]:
    """Our engine's answers to the corpus, through the CLI."""
    return _run(OURS, corpus, "taskcenter cron next")


def _run(command: list[str], corpus: list[str], name: str) -> list[str]:
    result = subprocess.run(
        command, input="".join(line + "\n" for line in corpus), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"{name} exited with {result.returncode}:\n{result.stderr[-4000:]}"
    answers = result.stdout.splitlines()
    assert len(answers) == len(corpus), (
        f"{name} answered {len(answers)} lines for {len(corpus)} cases:\n{result.stderr[-4000:]}"
    )
    return answers


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _agree(quartz: str, ours: str) -> bool:
    """The same answer; for a case Quartz rejects, any `INVALID:` with a reason (ours are our own)."""
    if quartz.startswith("INVALID:"):
        return ours.startswith("INVALID:") and ours[len("INVALID:") :].strip() != ""
    return ours == quartz


def _fail_on_differences(
    name: str, cases: list[str], quartz_answers: list[str], our_answers: list[str], judge: Judge
) -> None:
    differences = [
        (number, case, quartz, ours)
        for number, (case, quartz, ours) in enumerate(zip(cases, quartz_answers, our_answers, strict=False), 1)
        if not _agree(quartz, ours)
    ]
    if differences:
        shown = min(len(differences), MAX_REPORTED)
        report = [f"{len(differences)} of {len(cases)} cases differ from {judge.runtime} (first {shown}):"]
        for number, case, quartz, ours in differences[:MAX_REPORTED]:
            report.append(f"  {name}:{number}: {case!r}\n    quartz: {_clip(quartz)}\n    ours:   {_clip(ours)}")
        pytest.fail("\n".join(report), pytrace=False)


def test_engine_agrees_with_quartz(
    corpus: list[str], quartz_answers: list[str], our_answers: list[str], quartz_driver: Judge
) -> None:
    _fail_on_differences("corpus.tsv", corpus, quartz_answers, our_answers, quartz_driver)


# The line protocol itself (field count, trimming, start and n syntax): the CLI must read a line
# exactly as the driver does, or a corpus case could pass or fail for the wrong reason.
PROTOCOL_CASES = [
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00.999+00:00\t3",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:29.999Z\t3",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00\t3",
    "*/30 * * * * ?\tUTC\t2025-01-01\t3",
    "*/30 * * * * ?\tUTC\t20250101T000000Z\t3",
    "*/30 * * * * ?\tUTC\t2025-W01-1T00:00:00+00:00\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01 00:00:00+00:00\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00 +00:00\t2",
    "*/30 * * * * ?\tUTC\t 2025-01-01T00:00:00+00:00 \t2",
    "*/30 * * * * ?\tUTC\t2025-01-01t00:00:00z\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00Z\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00+01\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00+0100\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00+05:30:30\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00+18:00\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00+18:01\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00+24:00\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00.123456789Z\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00.1234567891Z\t2",
    "*/30 * * * * ?\tUTC\t2025-02-29T00:00:00Z\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T24:00:00Z\t2",
    "*/30 * * * * ?\tUTC\t9999-12-31T23:59:59-01:00\t2",
    "0 0 * * * ?\tAmerica/New_York\t2025-11-02T01:30:00\t2",
    "0 0 * * * ?\tAmerica/New_York\t2025-11-02T01:30:00-05:00\t2",
    "*/30 * * * * ?\tUTC\tnot-a-date\t3",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t0",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t-1",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\tabc",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t1_0",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t+2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t\u0663",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t2147483648",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t 2 ",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t007",
    "*/30 * * * * ?\tUTC \t2025-01-01T00:00:00Z\t2",
    " 0 0 12  * * ? \tUTC\t2025-01-01T00:00:00Z\t2",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z",
    "*/30 * * * * ?\tUTC\t2025-01-01T00:00:00Z\t2\textra",
    "\t\t",
    "   ",
    "0 0 12 1 1 ? 2020\tUTC\t2025-01-01T00:00:00+00:00\t3",
]


def test_cli_reads_the_line_protocol_as_the_driver_does(quartz_driver: Judge) -> None:
    quartz = _run(quartz_driver.command, PROTOCOL_CASES, "the Quartz driver")
    ours = _run(OURS, PROTOCOL_CASES, "taskcenter cron next")
    _fail_on_differences("PROTOCOL_CASES", PROTOCOL_CASES, quartz, ours, quartz_driver)


# ------------------------------------------------------------------------------------------------
# known deviations: where we follow the tz database and Quartz on Java 17 does not (docs/cron.md)


@dataclass(frozen=True)
class Deviation:
    line: int
    case: str  # expr<TAB>zone<TAB>start<TAB>n
    jdk17: str  # Quartz's answer on Java 17
    tzdb: str  # the tz database's answer: ours (and Quartz's on Java 25)
    why: str

    @property
    def zone(self) -> str:
        return self.case.split("\t")[1]


def _deviations() -> list[Deviation]:
    rows = []
    for number, line in enumerate(_read_lines(DEVIATIONS), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        assert len(fields) == 7, f"deviations.tsv:{number}: expected 7 tab-separated columns, got {len(fields)}"
        rows.append(Deviation(number, "\t".join(fields[:4]), fields[4], fields[5], fields[6]))
    return rows


def test_known_deviations_are_pinned(quartz_driver: Judge) -> None:
    """Each documented deviation: Quartz gives the Java 17 answer or the tz database's, we the tz database's."""
    deviations = _deviations()
    assert deviations, "deviations.tsv has no cases"
    cases = [deviation.case for deviation in deviations]
    quartz = _run(quartz_driver.command, cases, "the Quartz driver")
    ours = _run(OURS, cases, "taskcenter cron next")
    problems = []
    for deviation, quartz_answer, our_answer in zip(deviations, quartz, ours, strict=False):
        where = f"  deviations.tsv:{deviation.line}: {deviation.case!r} ({deviation.why})"
        if deviation.jdk17 == deviation.tzdb:
            problems.append(f"{where}\n    not a deviation: the Java 17 and tz database answers are the same")
        if quartz_answer not in (deviation.jdk17, deviation.tzdb):
            problems.append(
                f"{where}\n    Quartz gives neither documented answer:\n    quartz: {_clip(quartz_answer)}"
                f"\n    jdk17:  {_clip(deviation.jdk17)}\n    tzdb:   {_clip(deviation.tzdb)}"
            )
        if our_answer != deviation.tzdb:
            problems.append(
                f"{where}\n    ours is not the tz database's answer:\n    ours:   {_clip(our_answer)}\n    "
                f"tzdb:   {_clip(deviation.tzdb)}"
            )
    if problems:
        header = f"{len(problems)} problem(s) with the known deviations ({quartz_driver.runtime}):"
        pytest.fail("\n".join([header, *problems[:MAX_REPORTED]]), pytrace=False)


def test_the_corpus_keeps_out_of_the_deviations(corpus: list[str]) -> None:
    """The main corpus must agree exactly, so no case of it may sit in a zone with a documented deviation."""
    deviation_zones = {deviation.zone for deviation in _deviations()}
    inside = [
        f"corpus.tsv:{number}: {line!r}"
        for number, line in enumerate(corpus, 1)
        if line.split("\t")[1] in deviation_zones
    ]
    assert not inside, "cases in zones of deviations.tsv (generate_corpus.py must leave them out):\n" + "\n".join(
        inside[:MAX_REPORTED]
    )


def test_quartz_agrees_with_the_labels(
    labels: list[tuple[str, set[str]]], quartz_answers: list[str], quartz_driver: Judge
) -> None:
    """The corpus says which cases are invalid; the jar must still say so (guards corpus and jar drift)."""
    wrong = []
    for number, ((kind, tags), quartz) in enumerate(zip(labels, quartz_answers, strict=False), 1):
        if (kind == "valid") == quartz.startswith("INVALID:"):
            wrong.append(f"  corpus.tsv:{number}: labelled {kind}, Quartz says {_clip(quartz, 200)}")
        elif "quartz driver:" in quartz and not {"unevaluable", "loops"} & tags:
            wrong.append(f"  corpus.tsv:{number}: Quartz crashed or hung: {_clip(quartz, 200)}")
    header = f"{len(wrong)} labels disagree with {quartz_driver.runtime} (regenerate with generate_corpus.py --check):"
    assert not wrong, "\n".join([header, *wrong[:MAX_REPORTED]])


# ------------------------------------------------------------------------------------------------
# the corpus keeps its promises (no Java needed): it cannot silently shrink

DST_ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",
    "Australia/Lord_Howe",
)
REQUIRED_TAGS = (
    "star", "question", "list", "range", "wrap", "step", "names", "last-day", "weekday", "last-weekday",
    "last-dow", "nth", "seconds", "year", "past-year", "leap", "never", "quirk", "fixed", "alias", "boundary",
    "dst-gap", "dst-overlap", "dst-day", "inside-gap", "inside-first-pass", "inside-second-pass", "random",
)  # fmt: skip
LEGACY_ZONE_IDS = {
    "ACT", "AET", "AGT", "ART", "AST", "BET", "BST", "CAT", "CNT", "CST", "CTT", "EAT", "ECT", "EST", "HST",
    "IET", "IST", "JST", "MIT", "MST", "NET", "NST", "PLT", "PNT", "PRT", "PST", "SST", "VST",
}  # fmt: skip


def test_corpus_keeps_its_coverage_promises(corpus: list[str], labels: list[tuple[str, set[str]]]) -> None:
    assert len(labels) == len(corpus), "labels.tsv and corpus.tsv must have one line per case each"
    cases = [line.split("\t") for line in corpus]
    assert all(len(fields) == 4 for fields in cases), "every case is expr<TAB>zone<TAB>start<TAB>n"
    kinds = collections.Counter(kind for kind, _ in labels)
    assert set(kinds) <= set(KINDS), kinds
    assert len(corpus) >= 500, f"only {len(corpus)} cases"
    assert kinds["invalid-expr"] + kinds["invalid-zone"] >= 50, kinds
    assert kinds["invalid-zone"] >= 10, kinds

    tags = collections.Counter(tag for _, case_tags in labels for tag in case_tags)
    missing = [tag for tag in REQUIRED_TAGS if tags[tag] == 0]
    assert not missing, f"no case covers {missing}"
    assert tags["dst"] >= 150 and tags["quirk"] >= 10 and tags["random"] >= 100, tags

    valid = [fields for fields, (kind, _) in zip(cases, labels, strict=False) if kind == "valid"]
    for zone in DST_ZONES:
        zone_tags = set().union(
            *(case_tags for (expr, z, *_), (_, case_tags) in zip(cases, labels, strict=False) if z == zone)
        )
        assert {"dst-gap", "dst-overlap"} <= zone_tags, f"{zone} lacks DST gap/overlap cases"
    zones = {zone for _, zone, _, _ in valid}
    expected_zones = {
        "UTC",
        "GMT",
        "GMT+8",
        "GMT-03:30",
        "GMT+0545",
        "Asia/Shanghai",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Pacific/Chatham",
    }
    assert expected_zones <= zones, expected_zones - zones
    assert not zones & LEGACY_ZONE_IDS, "legacy 3-letter zone ids are ambiguous: keep them out"

    expressions = [expr for expr, *_ in valid]

    def count(pattern: str) -> int:
        return sum(1 for expr in expressions if re.search(pattern, expr, re.IGNORECASE))

    features = {
        "L-n": r"\bL-\d", "nW": r"\b\d+W\b", "LW": r"\bLW\b", "nth": r"#\d", "nL (dow)": r"\b[1-7]L\b",
        "FRIL": r"[A-Z]{3}L\b",
        "wrap range": r"\b(22-2|FRI-MON|NOV-FEB)\b", "*/n": r"\*/\d", "n/m": r"\b\d+/\d", "/n": r"(^|\s)/\d",
        "lowercase name": r"\b(mon|jan|fri|sat|sun|nov|feb)\b",
    }  # fmt: skip
    absent = [name for name, pattern in features.items() if count(pattern) == 0]
    assert not absent, f"no valid case uses {absent}"
    assert sum(1 for expr in expressions if len(expr.split()) >= 7) >= 30, "too few cases with a year field"
    assert sum(1 for expr in expressions if re.search(r"[*/,-]", expr.split()[0])) >= 30, "too few sub-minute cases"
    # 5-field Unix cron and @macros are our extension, not Quartz: not in this corpus
    assert not [expr for expr, *_ in cases if len(expr.split()) == 5 or expr.strip().startswith("@")]

    years = [int(start[:4]) for _, _, start, _ in cases]
    assert min(years) <= 2005 and max(years) >= 2085, (min(years), max(years))
    # before 2000 tz database releases still rewrite history (Asia/Tehran 1978 in 2025b, WET, EET),
    # and the JDK's release is not the system's: the corpus starts in 2000
    assert min(years) >= 2000, min(years)
    counts = collections.Counter(int(n) for _, _, _, n in cases)
    assert min(counts) >= 1 and max(counts) <= 10, counts
    assert counts[5] >= len(cases) // 3, counts
