"""exercises/ is nbgrader's release of solutions/: in sync, idempotent, nothing hidden."""
import shutil

import nbformat
import pytest

from autograder.check import leaks
from autograder.course import Assignment, assignment_names
from autograder.notebook import ANSWER, cell_role, grade_id, read_notebook
from autograder.release import generate_release, release

ASSIGNMENTS = assignment_names()


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_is_in_sync_with_its_source(name):
    assignment = Assignment(name)
    assert assignment.release.read_text(encoding="utf-8") == generate_release(assignment), \
        f"{assignment.release} is stale: run `python -m autograder release`"


def test_releasing_twice_changes_nothing(tmp_path):
    shutil.copytree(Assignment("mixtures").root / "solutions", tmp_path / "solutions")
    assignment = Assignment("mixtures", root=tmp_path)
    assert release(assignment) is True
    first = assignment.release.read_bytes(), assignment.release.stat().st_mtime_ns
    assert release(assignment) is False
    assert (assignment.release.read_bytes(), assignment.release.stat().st_mtime_ns) == first


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_stubs_clean_outputs_and_source_cell_ids(name):
    source = read_notebook(Assignment(name).source)
    released = read_notebook(Assignment(name).release)
    assert [c.id for c in released.cells] == [c.id for c in source.cells]
    for cell in released.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if cell_role(cell) == ANSWER:
            assert "raise NotImplementedError()" in cell.source, f"{grade_id(cell)} has no stub"
    nbformat.validate(released)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_nothing_hidden_leaks_into_the_release(name):
    assignment = Assignment(name)
    assert leaks(read_notebook(assignment.source), assignment) == []


def test_leak_scan_finds_a_planted_solution_line(tmp_path):
    for folder in ("solutions", "exercises"):
        shutil.copytree(Assignment("mixtures").root / folder, tmp_path / folder)
    assignment = Assignment("mixtures", root=tmp_path)
    nb = read_notebook(assignment.release)
    nb.cells[-1].source += "\nreturn np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))"
    nbformat.write(nb, assignment.release)
    (assignment.release.parent / "notes.txt").write_text("### BEGIN HIDDEN TESTS\n")
    found = leaks(read_notebook(assignment.source), assignment)
    assert any("leaked" in f and "logsumexp" in f for f in found), found
    assert any("notes.txt" in f and "marker" in f for f in found), found
