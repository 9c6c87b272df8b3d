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
RUNNERS = {
    SUCCEED: "tests.integration.jobs:succeed",
    FAIL: "tests.integration.jobs:fail",
    SLEEP: "tests.integration.jobs:sleep",
    FLAKY: "tests.integration.jobs:flaky",
}
JOB_CLASSES = {SUCCEED: "*", FAIL: "*", SLEEP: "*", FLAKY: "*"}


def succeed(*, context: Any, job_params: dict[str, Any], entity_group: str, entity_key: str, log: Any) -> dict[str, Any]:
    log.info("succeeding on purpose for %s %s", entity_group, entity_key)
    return {"entity": f"{entity_group} {entity_key}", "ok": True}


def fail(*, context: Any, job_params: dict[str, Any], entity_group: str, entity_key: str, log: Any) -> None:
    raise RuntimeError(f"{entity_group} {entity_key}: failing on purpose")


def sleep(*, context: Any, job_params: dict[str, Any], entity_group: str, entity_key: str, log: Any) -> None:
    import os
    import time

    seconds = float(job_params.get("seconds", 60))
    log.info("sleeping %s s in pid %s", seconds, os.getpid())
    time.sleep(seconds)
    log.info("slept %s s", seconds)


def flaky(*, context: Any, job_params: dict[str, Any], entity_group: str, entity_key: str, log: Any) -> dict[str, Any]:
    """Fails its first `failures` tries (default 2), then succeeds."""
    attempt = context["ti"].try_number
    if attempt <= int(job_params.get("failures", 2)):
        raise RuntimeError(f"try {attempt}: failing on purpose")
    log.info("try %s: succeeding", attempt)
    return {"tries": attempt}
