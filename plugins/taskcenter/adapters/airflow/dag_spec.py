"""A plan as the plain description its generated DAG file embeds (the cosmos-style middle step).

The DAG file cannot read the metadata DB (Airflow 3 blocks it while parsing), so everything the
builder needs travels in this JSON-able dict: identity, presentation, job, cron entries, upstreams.
"""

from __future__ import annotations

from typing import Any

from taskcenter.adapters.airflow.naming import dag_id_for
from taskcenter.domain.plans import DependencyTrigger, Plan, TriggerType

SPEC_VERSION = 1


def describe_triggers(plan: Plan) -> str:
    lines = []
    for item in plan.triggers:
        if item.trigger_type is TriggerType.CRON_JOB:
            lines.append(f"- item {item.id}: CRON_JOB `{item.cron_desc}` ({item.time_zone}, {item.cron_type})")
        else:
            upstream = ", ".join(f"{r.entity_group} {r.entity_key}" for r in item.trigger_by_jobs)
            when = "ends" if item.trigger_on is DependencyTrigger.FINISHED else "succeeds"
            lines.append(f"- item {item.id}: DEPENDENCY on {upstream} (runs after any of them {when})")
    return "\n".join(lines) if lines else "- no trigger: runs only when started (ONCE)"


def plan_spec(plan: Plan, *, owner: str | None, emit_finished: bool = False) -> dict[str, Any]:
    title = plan.title or f"{plan.entity_group} {plan.entity_key}"
    return {
        "spec_version": SPEC_VERSION,
        "plan_id": plan.id,
        "dag_id": dag_id_for(plan.id),
        "title": title,
        "entity_group": plan.entity_group,
        "entity_key": plan.entity_key,
        "owner": owner or "taskcenter",
        "description": f"taskcenter plan {plan.id}: {plan.entity_group} {plan.entity_key} ({title})\n"
        + describe_triggers(plan),
        "enabled": plan.enabled,
        "job": {
            "job_class": plan.exec_detail.job_class,
            "job_params": dict(plan.exec_detail.job_params),
            "retry_times": plan.exec_detail.retry_times,
        },
        "cron": [
            {"item_id": item.id, "expression": item.cron_desc, "zone": item.time_zone} for item in plan.cron_items
        ],
        "upstreams": [
            {"entity_group": r.entity_group, "entity_key": r.entity_key, "on": when.value}
            for r, when in plan.upstream_triggers()
        ],
        # Some plan waits for this plan's runs to end in any state: emit that event too.
        "emit_finished": emit_finished,
    }
