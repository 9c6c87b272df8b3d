from __future__ import annotations

from datetime import datetime, timezone

import pytest

from taskcenter.domain.errors import InvalidInputError
from taskcenter.domain.plan_requests import (
    DEFAULT_TIME_ZONE,
    ExecDetailInput,
    ItemInput,
    RefInput,
    validate_exec_detail,
    validate_items,
)
from taskcenter.domain.plans import EntityGroup, EntityRef, TriggerType

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
OWNER = EntityRef(entity_group="NOTEBOOK", entity_key="1")
NOTEBOOK_JOB = "com.hengshi.nangaparbat.schedulejob.NotebookJob"


def item_input(raw: dict) -> ItemInput:
    """The typed input the HTTP layer hands over for this JSON item."""
    refs = raw.get("triggerByJobs")
    return ItemInput(
        trigger_type=raw["triggerType"],
        id=raw.get("id"),
        cron_desc=raw.get("cronDesc"),
        cron_type=raw.get("cronType"),
        time_zone=raw.get("timeZone"),
        trigger_by_jobs=None
        if refs is None
        else tuple(RefInput(entity_group=r["entityGroup"], entity_key=r["entityKey"]) for r in refs),
        trigger_on=raw.get("triggerOn"),
    )


def field_of(call) -> str:
    with pytest.raises(InvalidInputError) as caught:
        call()
    assert caught.value.field and caught.value.field in caught.value.message
    return caught.value.field


def test_cron_item_defaults() -> None:
    (item,) = validate_items(
        [item_input({"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ?"})], owner=OWNER, now=NOW, allow_once=False
    )
    assert (
        item.trigger_type is TriggerType.CRON_JOB and item.time_zone == DEFAULT_TIME_ZONE and item.cron_type == "CRON"
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"triggerType": "CRON_JOB"}, "planItems[0].cronDesc"),
        ({"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * *"}, "planItems[0].cronDesc"),
        (
            {"triggerType": "CRON_JOB", "cronDesc": "0 0 12 0W * ?"},
            "planItems[0].cronDesc",
        ),  # Quartz never finds a time
        ({"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ?", "timeZone": "UTC+8"}, "planItems[0].timeZone"),
        ({"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ?", "cronType": "YEARLY"}, "planItems[0].cronType"),
        ({"triggerType": "SOMETIMES"}, "planItems[0].triggerType"),
        ({"triggerType": "DEPENDENCY"}, "planItems[0].triggerByJobs"),
        (
            {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "NOTEBOOK", "entityKey": "1"}]},
            "planItems[0].triggerByJobs[0]",
        ),
        (
            {"triggerType": "DEPENDENCY", "triggerByJobs": [{"entityGroup": "SHEET", "entityKey": "1"}]},
            "planItems[0].triggerByJobs[0].entityGroup",
        ),
        (
            {
                "triggerType": "DEPENDENCY",
                "cronDesc": "0 0 9 * * ?",
                "triggerByJobs": [{"entityGroup": "PIPELINE", "entityKey": "1"}],
            },
            "planItems[0].cronDesc",
        ),
    ],
)
def test_invalid_items_name_their_field(raw: dict, field: str) -> None:
    assert field_of(lambda: validate_items([item_input(raw)], owner=OWNER, now=NOW, allow_once=False)) == field


def test_once_rules() -> None:
    once = item_input({"triggerType": "ONCE"})
    cron = item_input({"triggerType": "CRON_JOB", "cronDesc": "0 0 9 * * ?"})
    assert validate_items([once], owner=OWNER, now=NOW, allow_once=True)[0].trigger_type is TriggerType.ONCE
    assert (
        field_of(lambda: validate_items([once], owner=OWNER, now=NOW, allow_once=False)) == "planItems[0].triggerType"
    )
    assert (
        field_of(lambda: validate_items([cron, once], owner=OWNER, now=NOW, allow_once=True))
        == "planItems[1].triggerType"
    )


def test_exec_detail() -> None:
    detail = validate_exec_detail(
        EntityGroup.NOTEBOOK, "1", ExecDetailInput(job_class=NOTEBOOK_JOB, job_params={"notebook": 1}, retry_times=2)
    )
    assert (detail.job_class, detail.job_params, detail.retry_times) == (NOTEBOOK_JOB, {"notebook": 1}, 2)
    assert validate_exec_detail(EntityGroup.DATASET, "1-2", ExecDetailInput()).job_params == {"app": 1, "dataset": 2}
    assert (
        field_of(lambda: validate_exec_detail(EntityGroup.PIPELINE, "1", ExecDetailInput(job_class=NOTEBOOK_JOB)))
        == "execDetail.jobClass"
    )
    assert (
        field_of(lambda: validate_exec_detail(EntityGroup.NOTEBOOK, "1", ExecDetailInput(job_params={"notebook": 2})))
        == "execDetail.jobParams.notebook"
    )
    assert (
        field_of(lambda: validate_exec_detail(EntityGroup.NOTEBOOK, "1", ExecDetailInput(retry_times=-1)))
        == "execDetail.retryTimes"
    )
    custom = validate_exec_detail(
        EntityGroup.NOTEBOOK, "1", ExecDetailInput(job_class="x.Custom"), allowed_job_classes={"x.Custom": "NOTEBOOK"}
    )
    assert custom.job_class == "x.Custom"
