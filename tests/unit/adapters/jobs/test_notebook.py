"""The NOTEBOOK runner on real kernels: the demo notebooks, a notebook without cell ids, bad definitions.

Papermill, nbclient and ipykernel run for real (one kernel per notebook run, about a second each);
the catalog, the log and the result sink are in-memory fakes that record events in one list, so
the tests can check that a cell's lines and result arrive before the next cell starts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from taskcenter.adapters.catalog.file_catalog import DEMO_CATALOG, FileEntityCatalog
from taskcenter.adapters.jobs.base import JobDefinitionError
from taskcenter.adapters.jobs.notebook import _kernel_manager_class
from tests.unit.adapters.jobs.fakes import MemoryCatalog
from tests.unit.adapters.jobs.notebook_helpers import DEMO_FOLDER, execute, notebook_entity


def test_demo_catalog_points_at_the_demo_notebooks() -> None:
    catalog = FileEntityCatalog(DEMO_CATALOG)
    for key in ("1", "2"):
        entity = catalog.get("NOTEBOOK", key)
        assert entity is not None
        path = catalog.folder / entity.definition["notebook"]
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
        assert notebook.metadata.kernelspec.name == "python3"
        assert "parameters" in notebook.cells[0].metadata.tags


@pytest.mark.parametrize(
    ("definition", "params", "expected"),
    [
        ({"notebook": "demo/notebooks/notebook1.ipynb"}, {"notebook": 99}, "no NOTEBOOK entity 99"),
        ({"title": "no file named"}, {"notebook": 3}, "has no 'notebook'"),
        ({"notebook": "demo/notebooks/missing.ipynb"}, {"notebook": 3}, "missing.ipynb' does not exist"),
        ({"notebook": "demo/notebooks/notebook1.ipynb"}, {}, "jobParams.notebook is required"),
        ({"notebook": "demo/notebooks/notebook1.ipynb"}, {"notebook": 3, "not-a-name": 1}, "not valid Python names"),
    ],
)
def test_bad_definitions_are_job_definition_errors(
    tmp_path: Path, definition: dict[str, Any], params: dict[str, Any], expected: str
) -> None:
    outcome = execute(MemoryCatalog(notebook_entity("3", definition), folder=DEMO_FOLDER), tmp_path, **params)
    assert isinstance(outcome.error, JobDefinitionError)
    assert expected in str(outcome.error)


def test_unreadable_notebook_is_a_job_definition_error(tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    outcome = execute(
        MemoryCatalog(notebook_entity("4", {"notebook": "broken.ipynb"}), folder=tmp_path),
        tmp_path / "work",
        notebook=4,
    )
    assert isinstance(outcome.error, JobDefinitionError)
    assert "not a readable notebook" in str(outcome.error)


@pytest.fixture
def foreign_python3_kernelspec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = ["/nowhere/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Other", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    yield


def test_kernel_is_this_interpreter_even_with_another_python3_kernelspec(foreign_python3_kernelspec: None) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    assert (
        KernelSpecManager().get_kernel_spec("python3").argv[0] == "/nowhere/bin/python"
    )  # what plain papermill would run
    assert _kernel_manager_class()(kernel_name="python3").kernel_spec.argv[0] == sys.executable
