"""What students and instructors meet outside our grader: plain nbgrader and a real Jupyter kernel."""
import copy
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import ROOT, Assignment, assignment_names
from autograder.notebook import ANSWER, cell_role, grade_id, questions, read_notebook
from autograder.release import normalise

ASSIGNMENTS = assignment_names()


def run_in_kernel(nb):
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return {grade_id(c): [o for o in c.outputs if o.output_type == "error"] for c in nb.cells
            if c.cell_type == "code"}


def test_plain_nbgrader_generate_assignment_makes_the_same_release(tmp_path):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    bin_dir = Path(sys.executable).parent
    for name in ASSIGNMENTS:
        result = subprocess.run([str(bin_dir / "nbgrader"), "generate_assignment", name], cwd=tmp_path,
                                capture_output=True, text=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr[-2000:]
        produced = nbformat.read(tmp_path / f"exercises/{name}/{name}.ipynb", as_version=4)
        assert normalise(produced) == Assignment(name).release.read_text(encoding="utf-8"), name


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_release_runs_in_a_jupyter_kernel_and_only_the_stubs_fail(name):
    errors = run_in_kernel(read_notebook(Assignment(name).release))
    failing = {cid: errs[0].ename for cid, errs in errors.items() if errs}
    assert failing and set(failing.values()) == {"NotImplementedError"}, failing
    assert errors["setup"] == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_completed_release_passes_every_visible_check_in_a_jupyter_kernel(name):
    source = read_notebook(Assignment(name).source)
    answers = {grade_id(c): c.source for c in source.cells if cell_role(c) == ANSWER}
    completed = copy.deepcopy(read_notebook(Assignment(name).release))
    for cell in completed.cells:
        if cell_role(cell) == ANSWER:
            cell.source = answers[grade_id(cell)]
    errors = run_in_kernel(completed)
    assert all(not errs for errs in errors.values()), {k: v for k, v in errors.items() if v}
    printed = "".join(o.get("text", "") for c in completed.cells if c.cell_type == "code" for o in c.outputs)
    assert printed.count("visible checks passed") == len(questions(source))
