"""Every question's hidden probes can fail: plausible wrong answers lose exactly their points.

Each fixture in tests/fixtures/<assignment>/ replaces one answer cell of the reference
solution with a common mistake.
"""
import copy
import re
from pathlib import Path

import pytest

from autograder.course import Assignment
from autograder.grade import grade_notebook
from autograder.notebook import ANSWER, TEST, cell_role, grade_id, read_notebook

FIXTURES = Path(__file__).parent / "fixtures"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
CASES = sorted(FIXTURES.glob("*/*--*.py"))


def probes_only(source):
    """The source with each test cell cut down to its hidden probes."""
    stripped = copy.deepcopy(source)
    for cell in stripped.cells:
        if cell_role(cell) == TEST:
            cell.source = "\n".join(HIDDEN.findall(cell.source))
    return stripped


def question_of(source, answer_id: str) -> str:
    """The test cell that follows an answer cell grades it."""
    ids = [grade_id(c) for c in source.cells if c.cell_type == "code"]
    roles = {grade_id(c): cell_role(c) for c in source.cells}
    later = ids[ids.index(answer_id) + 1:]
    return next(cid for cid in later if roles[cid] == TEST)


def test_every_question_has_a_wrong_answer_fixture():
    for folder in FIXTURES.iterdir():
        if not folder.is_dir():
            continue
        source = read_notebook(Assignment(folder.name).source)
        answers = {grade_id(c) for c in source.cells if cell_role(c) == ANSWER}
        covered = {case.name.split("--")[0] for case in folder.glob("*--*.py")}
        assert covered == answers, f"{folder.name}: answers without a wrong-answer fixture: {answers - covered}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_wrong_answer_loses_only_its_question(case, reference, with_answer):
    source, oracle = reference(case.parent.name)
    answer_id = case.name.split("--")[0]
    target = question_of(source, answer_id)
    results = grade_notebook(source, with_answer(source, answer_id, case.read_text()), oracle)
    lost = {r.id for r in results if r.points < r.max_points}
    assert lost == {target}, f"{case.name}: expected only {target} to lose points, lost {lost}: {results}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hidden_probes_alone_catch_the_mistake(case, reference, with_answer):
    """Without the visible checks, the hidden probes still reject the wrong answer."""
    source, oracle = reference(case.parent.name)
    answer_id = case.name.split("--")[0]
    target = question_of(source, answer_id)
    hidden_only = probes_only(source)
    results = {r.id: r for r in grade_notebook(hidden_only, with_answer(source, answer_id, case.read_text()), oracle)}
    assert results[target].points == 0
    assert "hidden checks differ" in results[target].message, results[target]
    assert all(r.points == r.max_points for qid, r in results.items() if qid != target)
