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
SIDE_EFFECT = "com.example.taskcenter.SideEffectJob"
RUNNERS = {
    SUCCEED: "tests.integration.jobs:succeed",
    FAIL: "tests.integration.jobs:fail",
    SLEEP: "tests.integration.jobs:sleep",
    FLAKY: "tests.integration.jobs:flaky",
    TICK: "tests.integration.jobs:tick",
    SIDE_EFFECT: "tests.integration.jobs:side_effect",
}
JOB_CLASSES = {SUCCEED: "*", FAIL: "*", SLEEP: "*", FLAKY: "*", TICK: "*", SIDE_EFFECT: "*"}


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


def side_effect(job: Any) -> dict[str, Any]:
    """Appends `started <try> <pid>` to the file `path`, sleeps `seconds` (default 30), appends
    `ended <try>`: a job whose every start leaves a trace, to count how often it ran."""
    import os
    import time

    path, seconds = str(job.job_params["path"]), float(job.job_params.get("seconds", 30))
    with open(path, "a") as marks:
        marks.write(f"started {job.try_number} {os.getpid()}\n")
    job.log.info("side effect written to %s; working %s s", path, seconds)
    time.sleep(seconds)
    with open(path, "a") as marks:
        marks.write(f"ended {job.try_number}\n")
    return {"tries": job.try_number}
