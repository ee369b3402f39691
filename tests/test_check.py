"""`check` passes on the course and catches each kind of broken assignment."""
import shutil

import nbformat
import pytest

from autograder.check import check_assignment
from autograder.course import Assignment, assignment_names
from autograder.notebook import read_notebook


@pytest.mark.parametrize("name", assignment_names())
def test_reference_scores_full_marks_and_blank_release_scores_zero(name):
    report = check_assignment(Assignment(name))
    assert report.problems == []
    assert report.reference and all(r.points == r.max_points for r in report.reference)
    assert report.blank and all(r.points == 0 and r.status == "failed" for r in report.blank)


@pytest.fixture
def course_copy(tmp_path):
    for folder in ("solutions", "exercises"):
        shutil.copytree(Assignment("mixtures").root / folder, tmp_path / folder)
    return Assignment("mixtures", root=tmp_path)


def edit_source(assignment, cell_id, edit):
    nb = read_notebook(assignment.source)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == cell_id]
    cell.source = edit(cell.source)
    nbformat.write(nb, assignment.source)


def test_check_reports_a_stale_release(course_copy):
    edit_source(course_copy, "q1-text", lambda s: s + "\n\nA new sentence.")
    assert any("out of date" in p for p in check_assignment(course_copy).problems)


def test_check_reports_a_question_without_probes(course_copy):
    edit_source(course_copy, "q3", lambda s: s.split("### BEGIN HIDDEN TESTS")[0])
    problems = check_assignment(course_copy).problems
    assert any("'q3' has no hidden probe" in p for p in problems), problems


def test_check_reports_a_reference_that_fails_its_tests(course_copy):
    edit_source(course_copy, "q2-answer", lambda s: s.replace("axis=1, keepdims", "axis=0, keepdims"))
    problems = check_assignment(course_copy).problems
    assert any("reference solution fails its own test cell 'q2'" in p for p in problems), problems
