"""What `autograder validate` tells a student when something other than a wrong value went wrong.

Each test fills the mixtures release with the reference answers, plants one mistake a student
makes (a syntax error, an edited or deleted cell, a helper defined too late, a failed check)
and asserts the exact line the student reads. Graded feedback renders the check's f-string
placeholders as a neutral word instead of the author's variable names.
"""
import copy

import nbformat
import pytest

from autograder.course import ROOT, Assignment
from autograder.notebook import grade_id, questions, read_notebook
from autograder.validate import find_release, validate
from autograder.verdict import FAILED, PASSED, QuestionResult, explain_safely

FULL = {"q1": 1, "q2": 2, "q3": 2, "q4": 2, "q5": 2, "q6": 1, "q7": 1}
RELEASE = Assignment("mixtures").release


def run(nb, tmp_path, name="mixtures.ipynb", **options):
    path = tmp_path / name
    nbformat.write(nb, path)
    results, warnings = validate(path, **options)
    return {r.id: r for r in results}, warnings


def points(results) -> dict:
    return {cid: r.points for cid, r in results.items()}


def cell_of(nb, cid):
    (cell,) = [c for c in nb.cells if grade_id(c) == cid]
    return cell


def test_a_syntax_error_is_shown_on_its_question_with_cell_and_line(solved, with_answer, tmp_path):
    broken = with_answer(solved, "q3-answer", "def m_step(x, resp):\n    return (x\n")
    results, warnings = run(broken, tmp_path)
    assert warnings == []
    assert points(results) == {**FULL, "q3": 0}
    assert results["q3"] == QuestionResult(
        "q3", 0.0, 2.0, FAILED, "your answer cell 'q3-answer' has a SyntaxError at line 2: '(' was never closed")


def test_edited_and_deleted_cells_run_and_count_as_in_the_exercise(solved, with_answer, tmp_path):
    nb = with_answer(solved, "q2-answer", "def responsibilities(log_joint):\n    return np.zeros((3, 2))\n")
    cell_of(nb, "q2").source = "pass  # my test, weakened"
    nb.cells = [c for c in nb.cells if grade_id(c) not in ("q1", "q6-answer")]
    q5 = nb.cells.index(cell_of(nb, "q5"))
    nb.cells.insert(q5 + 1, copy.deepcopy(nb.cells[q5]))
    nb.cells[q5 + 1].id = "q5-copy"
    results, warnings = run(nb, tmp_path)
    assert warnings == [
        f"cell 'q5' appears 2 times (cells {q5 + 1} and {q5 + 2}): the original from the exercise runs, "
        "here and when graded; delete the other copies",
        "cell 'q2' was edited; the original from the exercise runs instead, here and when graded",
        "the test cell 'q1' was deleted: it is restored from the exercise when graded"]
    assert points(results) == {**FULL, "q2": 0, "q6": 0}
    assert results["q1"].status == PASSED
    assert results["q2"].message == "AssertionError: each row (one data point) must sum to 1 over the classes"
    assert results["q6"].message == "the answer cell 'q6-answer' was deleted: question q6 gets no points"


def test_without_a_matching_release_the_notebook_runs_as_it_stands(solved, tmp_path):
    nb = copy.deepcopy(solved)
    cell_of(nb, "q2").source = "pass  # my test, weakened"
    results, warnings = run(nb, tmp_path, root=tmp_path)
    assert warnings == [
        "cell 'q2' was edited; the original will replace it when graded",
        f"no exercise in {tmp_path / 'exercises'} matches this notebook, so its test cells ran as they "
        "stand; the originals will replace edited or deleted ones when graded"]
    assert points(results) == FULL


def test_the_release_is_found_by_its_cells_when_the_file_is_renamed(solved, tmp_path):
    path = tmp_path / "mixtures-Copy1.ipynb"
    assert find_release(solved, path) == read_notebook(RELEASE)
    assert find_release(solved, path, root=tmp_path) is None


def test_a_helper_defined_below_its_use_is_named(solved, with_answer, answer, tmp_path):
    nb = with_answer(solved, "q3-answer", answer("q3-answer").replace("def m_step(", "def _m_step(")
                     + "\ndef m_step(x, resp):\n    return helper(x, resp)\n")
    nb.cells.append(nbformat.v4.new_code_cell("helper = _m_step"))
    results, _ = run(nb, tmp_path)
    assert points(results) == {**FULL, "q3": 0}
    later = (": 'helper' is defined in a later cell (cell {} of the notebook); cells run from top to bottom, "
             "so move it above the cell that uses it").format(len(nb.cells))
    assert results["q3"].message == "NameError: name 'helper' is not defined" + later


def test_validate_shows_the_real_assertion_message_in_one_line(solved, with_answer, tmp_path):
    wrong = "def responsibilities(log_joint):\n    return np.exp(log_joint) / np.sum(np.exp(log_joint))\n"
    results, _ = run(with_answer(solved, "q2-answer", wrong), tmp_path)
    assert points(results) == {**FULL, "q2": 0}
    assert results["q2"].message == "AssertionError: each row (one data point) must sum to 1 over the classes"
    wrong = "def responsibilities(log_joint):\n    return np.full(np.shape(log_joint), 0.5)\n"
    results, _ = run(with_answer(solved, "q2-answer", wrong), tmp_path)
    assert results["q2"].message == ("AssertionError: for joint probabilities [0.2, 0.6] expected "
                                     "[0.25, 0.75], got [0.5 0.5]")


def test_graded_feedback_renders_placeholders_as_a_neutral_word(source):
    q2, q3 = [q for q in questions(source) if q.id in ("q2", "q3")]
    failed_at = {"status": "error", "error_type": "AssertionError"}
    assert explain_safely(q2, {**failed_at, "line": 4}, {}) == (
        "check failed: for joint probabilities [0.2, 0.6] expected [0.25, 0.75], got …")
    assert explain_safely(q3, {**failed_at, "line": 5}, {}) == (
        "check failed: sigmas should be [0.816, 0] (divide by N_k, not N; standard deviations, not "
        "variances), got …")
    assert explain_safely(q2, {**failed_at, "line": 3}, {}) == (
        "check failed: each row (one data point) must sum to 1 over the classes")
