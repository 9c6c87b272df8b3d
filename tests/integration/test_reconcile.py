"""`taskcenter reconcile`: the generated plan DAG files follow the DB."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.harness import RunningTaskCenter, ok

PLAN = {
    "entityGroup": "PIPELINE",
    "entityKey": "1",
    "planItems": [{"triggerType": "CRON_JOB", "cronDesc": "0 0 3 * * ?", "timeZone": "UTC"}],
}


def test_reconcile_restores_lost_files_and_removes_strays(tc: RunningTaskCenter) -> None:
    plan = ok(tc.request("POST", "/api/schedules", json=PLAN))["data"]
    folder = tc.settings.plans_folder
    generated = folder / f"plan_{plan['id']}.py"
    original = generated.read_text()
    generated.unlink()  # a lost volume
    stray = folder / "plan_999999.py"
    stray.write_text(
        original.replace(f"'plan_id': {plan['id']}", "'plan_id': 999999").replace(
            f"taskcenter_plan_{plan['id']}", "taskcenter_plan_999999"
        )
    )

    result = subprocess.run(
        [sys.executable, "-m", "taskcenter.cli.main", "reconcile"],
        env=tc.settings.environ(),
        cwd=tc.home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 plan DAG file(s) written, 1 removed" in result.stdout
    assert generated.read_text() == original
    assert not stray.exists()
    tc.wait_for_dag(f"taskcenter_plan_{plan['id']}")
