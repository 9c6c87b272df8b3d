"""The option declaration in a fresh interpreter: Airflow calls the provider info while it imports
its own configuration, so building it must import no Airflow."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_importing_the_declaration_imports_no_airflow() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import taskcenter.provider as p; p.get_provider_info(); "
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    env_path = f"{ROOT / 'plugins'}:{ROOT}"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": env_path}
    ).stdout
    assert out.strip() == "[]"
