"""Job runners registered by the integration harness through `[taskcenter] job_runners`.

They exercise the registration of deployment-specific job classes, and give the plan tests jobs
that succeed or fail on purpose (the vendor job types get their own tests).
"""

from __future__ import annotations

from typing import Any

SUCCEED = "com.example.taskcenter.SucceedJob"
FAIL = "com.example.taskcenter.FailJob"
SLEEP = "com.example.taskcenter.SleepJob"
FLAKY = "com.example.taskcenter.FlakyJob"
TICK = "com.example.taskcenter.TickJob"
RUNNERS = {
    SUCCEED: "tests.integration.jobs:succeed",
    FAIL: "tests.integration.jobs:fail",
    SLEEP: "tests.integration.jobs:sleep",
    FLAKY: "tests.integration.jobs:flaky",
    TICK: "tests.integration.jobs:tick",
}
JOB_CLASSES = {SUCCEED: "*", FAIL: "*", SLEEP: "*", FLAKY: "*", TICK: "*"}


def succeed(job: Any) -> dict[str, Any]:
    job.log.info("succeeding on purpose for %s %s", job.entity_group, job.entity_key)
    return {"entity": f"{job.entity_group} {job.entity_key}", "ok": True}


def fail(job: Any) -> None:
    raise RuntimeError(f"{job.entity_group} {job.entity_key}: failing on purpose")


def sleep(job: Any) -> None:
    import os
    import time

    seconds = float(job.job_params.get("seconds", 60))
    job.log.info("sleeping %s s in pid %s", seconds, os.getpid())
    time.sleep(seconds)
    job.log.info("slept %s s", seconds)


def flaky(job: Any) -> dict[str, Any]:
    """Fails its first `failures` tries (default 2), then succeeds."""
    attempt = job.try_number
    if attempt <= int(job.job_params.get("failures", 2)):
        raise RuntimeError(f"try {attempt}: failing on purpose")
    job.log.info("try %s: succeeding", attempt)
    return {"tries": attempt}


def tick(job: Any) -> dict[str, Any]:
    """Logs `tick i/n` every `interval` seconds (default 0.5 s, n = 12): a log that grows while it runs."""
    import time

    count, interval = int(job.job_params.get("ticks", 12)), float(job.job_params.get("interval", 0.5))
    for i in range(1, count + 1):
        job.log.info("tick %s/%s", i, count)
        time.sleep(interval)
    return {"ticks": count}
