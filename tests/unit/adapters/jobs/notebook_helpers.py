"""The NOTEBOOK tests' harness, shared by the unit and the component tests: an entity builder and
`execute`, which runs the NOTEBOOK runner on a fake job and keeps what it logged, published and raised.

Pure at import: only `execute`, when a test calls it, may start a kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG
from taskcenter.adapters.jobs.notebook import run
from taskcenter.domain.catalog import Entity
from tests.unit.adapters.jobs.fakes import FakeJob, MemoryCatalog, make_job

DEMO_FOLDER = DEMO_CATALOG.parent


def notebook_entity(key: str, definition: dict[str, Any]) -> Entity:
    return Entity(group="NOTEBOOK", key=key, title=f"notebook{key}", definition=definition)


@dataclass
class Outcome:
    fake: FakeJob
    work: Path
    error: BaseException | None = None

    def lines(self, sub_key: str | None) -> list[str]:
        return self.fake.log.lines(sub_key)

    def sub_keys(self) -> set[str]:
        return self.fake.log.sub_keys()

    def results(self) -> list[tuple[str, Any]]:
        return list(self.fake.published)

    def index(self, kind: str, sub_key: str, text: str = "") -> int:
        return next(
            i for i, e in enumerate(self.fake.timeline) if e[0] == kind and e[1] == sub_key and text in str(e[-1])
        )


def execute(catalog: MemoryCatalog, work: Path, **job_params: Any) -> Outcome:
    fake = make_job(
        job_class="com.hengshi.nangaparbat.schedulejob.NotebookJob",
        job_params=job_params,
        entity_group="NOTEBOOK",
        entity_key=str(job_params.get("notebook")),
        catalog=catalog,
        work_folder=work,
    )
    outcome = Outcome(fake, work)
    try:
        run(fake.job)
    except Exception as exc:  # noqa: BLE001 - the tests look at it
        outcome.error = exc
    return outcome
