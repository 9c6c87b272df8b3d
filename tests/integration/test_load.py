"""The compat API under load (issue 10): 20 concurrent clients for 20 s of the mix, on each database.

Not timed: it asserts what must hold whatever the machine's speed. No answer is a 5xx, no
connection breaks, no call fails other than with an expected 409 (concurrent writes of a plan
several clients write), every acknowledged write is readable afterwards (the last one of each plan,
or one of the writes it overlapped) as is every acknowledged run-now's context, and every plan's
generated DAG file matches the plan as the API reports it.

The session instance uses the demo catalog, so the 20 clients share its 11 entities (about two
clients per plan, plus the plan all clients write on purpose); the runs use the cheap registered
SucceedJob (a real Airflow task, no notebook kernel).
"""

from __future__ import annotations

import pytest

from benchmarks.loadmix import MixConfig, Target, catalog_entities, report, run_taskcenter_mix, summarize, verify
from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG
from tests.integration.harness import RunningTaskCenter
from tests.integration.jobs import SUCCEED


@pytest.mark.integration
def test_twenty_clients_for_twenty_seconds_of_the_mix(tc: RunningTaskCenter) -> None:
    target = Target(base_url=tc.base_url, token=tc.token)
    result = run_taskcenter_mix(
        target, MixConfig(clients=20, seconds=20), entities=catalog_entities(DEMO_CATALOG), job_class=SUCCEED
    )
    check = verify(target, result, plans_folder=tc.settings.plans_folder)
    summary = summarize(result)
    text = (
        f"{tc.backend}\n{report(result, samples=10)}\n{check.plans} plans, {check.contexts} contexts, "
        f"{check.files} DAG files "
        f"checked: {len(check.problems)} problem(s)\n"
        + "\n".join(check.problems[:20])
        + f"\ncomponent restarts: {getattr(tc, 'restarts', [])}"
    )
    print(text)
    assert summary.calls > 0 and result.writes, text
    assert summary.server_errors == 0, text
    assert summary.broken == 0, text
    assert summary.other_errors == 0, text
    assert check.plans == len(result.plan_ids) and check.files >= len(result.plan_ids), check
    assert check.problems == (), text
