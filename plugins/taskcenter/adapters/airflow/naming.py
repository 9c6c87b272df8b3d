"""Names plans have in Airflow: DAG ids, generated file names, asset URIs (stable, documented)."""

from __future__ import annotations

from taskcenter.domain.plans import EntityRef

DAG_ID_PREFIX = "taskcenter_plan_"
ASSET_URI_PREFIX = "taskcenter://plans/"


def dag_id_for(plan_id: int) -> str:
    return f"{DAG_ID_PREFIX}{plan_id}"


def plan_id_of(dag_id: str) -> int | None:
    if not dag_id.startswith(DAG_ID_PREFIX):
        return None
    return _plan_number(dag_id[len(DAG_ID_PREFIX) :])


def file_name_for(plan_id: int) -> str:
    return f"plan_{plan_id}.py"


def plan_id_of_file(relative_path: str) -> int | None:
    """The plan whose generated file this is (`.../plan_<id>.py`), else None."""
    name = relative_path.rpartition("/")[2]
    if not (name.startswith("plan_") and name.endswith(".py")):
        return None
    return _plan_number(name[len("plan_") : -len(".py")])


def _plan_number(text: str) -> int | None:
    """The plan id a DAG id or file name ends with (ASCII digits only: `²` is a digit to Python)."""
    return int(text) if text.isascii() and text.isdigit() else None


def asset_uri_for(ref: EntityRef) -> str:
    """The asset a plan's run emits when it succeeds; keyed by entity, so hand-written DAGs can use it."""
    return f"{ASSET_URI_PREFIX}{ref.entity_group}/{ref.entity_key}"


def finished_asset_uri_for(ref: EntityRef) -> str:
    """The asset a plan's run emits when it ends in any state (for `triggerOn: FINISHED` dependents)."""
    return asset_uri_for(ref) + "/finished"



def entity_of_asset_uri(uri: str) -> EntityRef | None:
    """The entity whose plan asset (or `/finished` asset) this is; None for any other asset."""
    if not uri.startswith(ASSET_URI_PREFIX):
        return None
    group, sep, key = uri[len(ASSET_URI_PREFIX) :].partition("/")
    key = key.removesuffix("/finished")
    if not (sep and group and key):
        return None
    return EntityRef(entity_group=group, entity_key=key)


# XCom keys of a cancel (docs/api.md, Cancel): the request, written by the api-server on each
# running task instance of the run ({"by": login, "at": ISO time}), and the job's own marker that
# it stopped for it, written by the task before it ends.
CANCEL_REQUEST_KEY = "taskcenter.cancel"
CANCEL_STOPPED_KEY = "taskcenter.cancelled"
