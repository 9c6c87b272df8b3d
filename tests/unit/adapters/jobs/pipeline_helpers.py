"""The PIPELINE tests' builders, shared by the unit and the component tests: the job, an ad-hoc
pipeline of given nodes, and a sql node.

Pure: nothing here starts a process or opens a socket.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taskcenter.domain.catalog import Entity
from tests.unit.adapters.jobs.fakes import FakeJob, MemoryCatalog, make_job


def pipeline_job(tmp_path: Path, catalog: Any, pipeline: Any = 1, plan_id: int | None = 7) -> FakeJob:
    return make_job(
        job_class="com.hengshi.nangaparbat.schedulejob.PipelineJob",
        job_params={"pipeline": pipeline},
        entity_group="PIPELINE",
        entity_key=str(pipeline),
        catalog=catalog,
        work_folder=tmp_path / "work",
        plan_id=plan_id,
    )


def pipeline(tmp_path: Path, nodes: list[dict[str, Any]]) -> FakeJob:
    entity = Entity(group="PIPELINE", key="5", title="p5", definition={"nodes": nodes})
    return pipeline_job(tmp_path, MemoryCatalog(entity, folder=tmp_path), pipeline=5)


def sql(node_id: Any, statement: Any, *depends: Any, conn: str = "taskcenter_demo_source") -> dict[str, Any]:
    return {
        "id": node_id,
        "name": f"n{node_id}",
        "type": "sql",
        "conn": conn,
        "sql": statement,
        "dependsOn": list(depends),
    }
