"""The NOTEBOOK runner on real kernels: the demo notebooks, a notebook without cell ids, bad definitions.

Papermill, nbclient and ipykernel run for real (one kernel per notebook run, about a second each);
the catalog, the log and the result sink are in-memory fakes that record events in one list, so
the tests can check that a cell's lines and result arrive before the next cell starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from taskcenter.adapters.jobs.notebook import NotebookCellError, run
from tests.unit.adapters.jobs.fakes import MemoryCatalog, make_job, stop_once_ready
from tests.unit.adapters.jobs.notebook_helpers import DEMO_FOLDER, Outcome, execute, notebook_entity


def demo_catalog() -> MemoryCatalog:
    notebooks = (notebook_entity(key, {"notebook": f"demo/notebooks/notebook{key}.ipynb"}) for key in ("1", "2"))
    return MemoryCatalog(*notebooks, folder=DEMO_FOLDER)


def code_cell_ids(path: Path) -> list[str]:
    return [c.id for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def notebook1(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return execute(demo_catalog(), tmp_path_factory.mktemp("nb1"), notebook=1, currency="EUR")


@pytest.fixture(scope="module")
def notebook2(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return execute(demo_catalog(), tmp_path_factory.mktemp("nb2"), notebook=2)


def test_notebook1_logs_every_code_cell_under_its_id(notebook1: Outcome) -> None:
    assert notebook1.error is None, notebook1.error
    ids = code_cell_ids(DEMO_FOLDER / "demo/notebooks/notebook1.ipynb")
    assert ids == ["parameters", "greeting", "sales", "total"]
    assert notebook1.sub_keys() == {*ids, "injected-parameters"}
    for n, cell_id in enumerate(ids, start=1):
        lines = notebook1.lines(cell_id)
        assert lines[0] == f"cell {cell_id} ({n} of 4) started"
        assert lines[-1].startswith(f"cell {cell_id} ({n} of 4) done in ")
    assert "Demo sales report (notebook 1), amounts in EUR" in notebook1.lines("greeting")
    assert "total revenue: 70275.50 EUR from 556 orders" in notebook1.lines("total")
    assert any("Central" in line and "13780.00" in line for line in notebook1.lines("sales"))  # the frame's text


def test_job_params_are_injected_after_the_parameters_cell(notebook1: Outcome) -> None:
    injected = notebook1.lines("injected-parameters")
    assert 'currency = "EUR"' in injected and "notebook = 1" in injected
    assert (
        notebook1.index("log", "parameters")
        < notebook1.index("log", "injected-parameters")
        < notebook1.index("log", "greeting")
    )
    executed = nbformat.read(notebook1.work / "notebook1.output.ipynb", as_version=4)
    assert executed.metadata.papermill.parameters == {"notebook": 1, "currency": "EUR"}


def test_the_displayed_frame_is_the_sales_cell_result_published_when_it_ends(notebook1: Outcome) -> None:
    assert notebook1.results() == [
        (
            "sales",
            {
                "schema": [
                    {"name": "region", "title": "region", "type": "string"},
                    {"name": "orders", "title": "orders", "type": "integer"},
                    {"name": "revenue", "title": "revenue", "type": "number"},
                ],
                "data": [
                    ["North", 120, 15234.5],
                    ["South", 95, 11890.0],
                    ["East", 143, 18920.25],
                    ["West", 88, 10450.75],
                    ["Central", 110, 13780.0],
                ],
            },
        )
    ]
    # Progress while the notebook runs: the result comes before the next cell starts.
    assert notebook1.index("result", "sales") < notebook1.index("log", "total", "started")


def test_notebook2_fails_naming_the_cell_and_the_error(notebook2: Outcome) -> None:
    assert isinstance(notebook2.error, NotebookCellError)
    message = str(notebook2.error)
    assert "notebook2.ipynb" in message and "cell fail (3 of 4)" in message
    assert "ValueError: demo: this cell fails on purpose" in message
    assert "notebook 2: prepared 3 values" in notebook2.lines("prepare")
    errors = [text for level, key, text in notebook2.fake.log.records if key == "fail" and level == "error"]
    assert "ValueError: demo: this cell fails on purpose" in errors
    assert errors[-1].startswith("cell fail (3 of 4) failed in ")
    assert not any("\x1b" in text for text in notebook2.fake.log.texts())  # colours stripped
    assert "never" not in notebook2.sub_keys()
    assert not any("never runs" in str(payload) for _, _, payload in notebook2.fake.timeline)
    assert notebook2.results() == []
    assert (notebook2.work / "notebook2.output.ipynb").exists()  # papermill keeps the failed copy


def test_notebook_without_ids_gets_stable_cell_keys_and_tables(tmp_path: Path) -> None:
    notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    notebook.cells = [
        new_markdown_cell("no ids here"),
        new_code_cell("label = 'x'"),
        new_code_cell("import pandas as pd\npd.DataFrame({'city': ['Oslo', 'Rome'], 'n': [2, 3]}).set_index('city')"),
        new_code_cell(
            "from IPython.display import JSON, display\n"
            "import pathlib\n"
            "pathlib.Path('written.txt').write_text(label)\n"
            "print('step 1\\rstep 2', flush=True)\n"
            "display(JSON({'schema': [{'name': 'k', 'title': 'K', 'type': 'string'}], 'data': [['a'], ['b']]}))"
        ),
    ]
    for cell in notebook.cells:
        del cell["id"]
    notebook.nbformat_minor = 4
    source = tmp_path / "no {ids}.ipynb"  # braces: papermill formats paths with the parameters
    source.write_text(json.dumps(notebook), encoding="utf-8")
    work = tmp_path / "work"

    outcome = execute(MemoryCatalog(notebook_entity("7", {"notebook": source.name}), folder=tmp_path), work, notebook=7)

    assert outcome.error is None, outcome.error
    assert outcome.sub_keys() == {"cell-1", "cell-2", "cell-3", "injected-parameters"}  # no parameters cell: on top
    assert outcome.lines("cell-1")[0] == "cell cell-1 (1 of 3) started"
    assert "step 2" in outcome.lines("cell-3") and "step 1" not in outcome.lines("cell-3")
    assert outcome.results() == [
        (
            "cell-2",
            {
                "schema": [
                    {"name": "city", "title": "city", "type": "string"},
                    {"name": "n", "title": "n", "type": "integer"},
                ],
                "data": [["Oslo", 2], ["Rome", 3]],
            },
        ),
        ("cell-3", {"schema": [{"name": "k", "title": "K", "type": "string"}], "data": [["a"], ["b"]]}),
    ]
    assert (work / "written.txt").read_text() == "x"  # the kernel runs in the output folder
    assert (work / "no {ids}.output.ipynb").exists()


def _live(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def test_stopping_the_task_ends_the_kernel_and_what_it_started(tmp_path: Path) -> None:
    """The kernel runs in a session of its own, out of the task's process group that Airflow signals."""
    notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    notebook.cells = [
        new_code_cell(
            "import pathlib, subprocess, time\n"
            "child = subprocess.Popen(['sleep', '60'])\n"
            "pathlib.Path('child.pid').write_text(str(child.pid))\n"
            "time.sleep(60)",
            id="busy",
        )
    ]
    source = tmp_path / "busy.ipynb"
    source.write_text(json.dumps(notebook), encoding="utf-8")
    work = tmp_path / "work"
    fake = make_job(
        job_class="com.hengshi.nangaparbat.schedulejob.NotebookJob",
        job_params={"notebook": 8},
        entity_group="NOTEBOOK",
        entity_key="8",
        catalog=MemoryCatalog(notebook_entity("8", {"notebook": source.name}), folder=tmp_path),
        work_folder=work,
    )

    def busy() -> list[int] | None:
        return fake.job.processes.pids() if (work / "child.pid").exists() else None

    kernels, elapsed = stop_once_ready(lambda: run(fake.job), processes=fake.job.processes, ready=busy, timeout=60)
    (kernel,) = kernels
    assert os.getpgid(0) != kernel
    child = int((work / "child.pid").read_text())
    assert not _live(kernel) and not _live(child)
    assert elapsed < 30  # kernel start-up plus a prompt stop, not the cell's 60 s
    assert fake.job.processes.pids() == []
