"""Damaged and duplicated notebooks: what is repaired, which copy counts, what is ungradable.

Each fixture is the mixtures reference solution (the shared ``source``) with one fault planted
in its JSON. Most tests need no sandbox: a repaired notebook must rebuild into exactly the
cells the intact one does, which is what makes it grade the same. A few sandboxed runs then
prove the whole path (``course.grade`` and ``validate``) gives the exact points.
"""
import copy
import json
from pathlib import Path

import nbformat
import pytest

from autograder import repair
from autograder.assemble import duplicated_cells, own_skeleton, submission_cells
from autograder.grade import grade_submission
from autograder.notebook import ANSWER, parse_with_repairs
from autograder.validate import cell_name, duplicate_warnings, edited_locked_cells, validate

FULL = {"q1": 1, "q2": 2, "q3": 2, "q4": 2, "q5": 2, "q6": 1, "q7": 1}
ID_NOTE = "a cell id that was not valid (1 to 64 letters, digits, - or _) was replaced"
WRONG_Q3 = (Path(__file__).parent / "fixtures" / "mixtures" / "q3-answer--divide-by-n.py").read_text()
WRONG_Q3_MESSAGE = ("check failed: sigmas should be [0.816, 0] (divide by N_k, not N; standard "
                    "deviations, not variances), got …")


def raw(nb) -> dict:
    """The notebook's JSON as a plain dict (sources as lists of lines, as Jupyter writes them)."""
    return json.loads(nbformat.writes(nb))


def jobs(source, nb) -> list[tuple]:
    """What grading runs for ``nb``: (id, role, code) of every cell, in order."""
    return [(j.id, j.role, j.source) for j in submission_cells(source, nb)]


def at(nb: dict, cid: str) -> int:
    """The position of the cell with grade_id ``cid`` in notebook JSON (damaged cells allowed)."""
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") if isinstance(c, dict) else None
           for c in nb["cells"]]
    return ids.index(cid)


def copy_of(nb: dict, cid: str, code: str | None = None) -> dict:
    """A copy of the cell ``cid`` (as Jupyter pastes it: same metadata, new cell id)."""
    cell = copy.deepcopy(nb["cells"][at(nb, cid)])
    cell["id"] = f"pasted-{len(nb['cells'])}"
    if code is not None:
        cell["source"] = code
    return cell


def points(result) -> dict:
    return {q["id"]: q["points"] for q in result["questions"]}


# ---------------------------------------------------------------- one repair step at a time

CODE = {"id": "c1", "cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": None}
TEXT = {"id": "m1", "cell_type": "markdown", "metadata": {}, "source": "# Title"}
STREAM = {"output_type": "stream", "name": "stdout", "text": "ok\n"}


@pytest.mark.parametrize("step, cell, repaired, note", [
    (repair.join_source, {**CODE, "source": ["x = 1\n", "y = 2"]}, {**CODE, "source": "x = 1\ny = 2"}, None),
    (repair.reset_cell_metadata, {**CODE, "metadata": None}, CODE,
     "cell metadata that was missing or not an object was reset"),
    (repair.reset_cell_metadata, {k: v for k, v in CODE.items() if k != "metadata"}, CODE,
     "cell metadata that was missing or not an object was reset"),
    (repair.drop_unreadable_nbgrader_metadata, {**CODE, "metadata": {"nbgrader": "q1-answer"}}, CODE,
     "nbgrader metadata that could not be read was removed (the cell counts as one you added)"),
    (repair.drop_unreadable_nbgrader_metadata, {**CODE, "metadata": {"nbgrader": {"grade_id": 3}}}, CODE,
     "nbgrader metadata that could not be read was removed (the cell counts as one you added)"),
    (repair.drop_unreadable_points, {**CODE, "metadata": {"nbgrader": {"grade_id": "q1", "points": "2"}}},
     {**CODE, "metadata": {"nbgrader": {"grade_id": "q1"}}}, "a points value that was not a number was removed"),
    (repair.drop_outputs_of_text_cells, {**TEXT, "outputs": [], "execution_count": 4}, TEXT,
     "outputs or an execution count on a text cell were removed"),
    (repair.drop_attachments_of_code_cells, {**CODE, "attachments": {}}, CODE,
     "attachments on a code cell were removed"),
    (repair.drop_unreadable_attachments, {**TEXT, "attachments": {"a.png": "not a bundle"}}, TEXT,
     "attachments that could not be read were removed"),
    (repair.drop_unknown_cell_fields, {**CODE, "collapsed": True, "prompt_number": 3}, CODE,
     "fields that a notebook cell does not have were removed"),
    (repair.reset_outputs, {k: v for k, v in CODE.items() if k != "outputs"}, CODE,
     "a code cell without a list of outputs was given an empty one"),
    (repair.reset_outputs, {**CODE, "outputs": "none"}, CODE,
     "a code cell without a list of outputs was given an empty one"),
    (repair.drop_unreadable_outputs,
     {**CODE, "outputs": [STREAM, {"output_type": "bogus"}, "text", {"output_type": "stream", "name": "stdout"}]},
     {**CODE, "outputs": [STREAM]}, "outputs that do not follow the notebook format were removed"),
    (repair.clear_bad_execution_count, {**CODE, "execution_count": "7"}, CODE,
     "an execution count that was missing or not a number was cleared"),
    (repair.clear_bad_execution_count, {**CODE, "execution_count": -1}, CODE,
     "an execution count that was missing or not a number was cleared"),
    (repair.clear_bad_execution_count, {**CODE, "execution_count": True}, CODE,
     "an execution count that was missing or not a number was cleared"),
    (repair.clear_bad_execution_count, {k: v for k, v in CODE.items() if k != "execution_count"}, CODE,
     "an execution count that was missing or not a number was cleared"),
])
def test_each_cell_repair_fixes_its_fault_and_says_so(step, cell, repaired, note):
    assert step(cell) == note
    assert cell == repaired


@pytest.mark.parametrize("bad_id", ["has space", "x" * 65, "", 12, "naïve"])
def test_an_invalid_cell_id_is_replaced_by_a_valid_one(bad_id):
    cell = {**CODE, "id": bad_id}
    assert repair.replace_invalid_id(cell) == ID_NOTE
    assert repair.CELL_ID.fullmatch(cell["id"]) and cell == {**CODE, "id": cell["id"]}
    nbformat.validate(cell, ref="code_cell", version=4, version_minor=5)


@pytest.mark.parametrize("step", repair.CELL_STEPS)
@pytest.mark.parametrize("cell", [CODE, {**TEXT, "attachments": {"a.png": {"image/png": "iVBO"}}},
                                  {**CODE, "outputs": [STREAM], "execution_count": 3}])
def test_no_cell_step_changes_a_valid_cell(step, cell):
    unchanged = copy.deepcopy(cell)
    assert step(unchanged) is None
    assert unchanged == cell


@pytest.mark.parametrize("cell, reason", [
    (5, "a cell that is not a JSON object was skipped"),
    (None, "a cell that is not a JSON object was skipped"),
    ({**TEXT, "cell_type": "heading"}, "a cell of unknown type was skipped"),
    ({k: v for k, v in CODE.items() if k != "cell_type"}, "a cell of unknown type was skipped"),
    ({**CODE, "source": 3}, "a cell whose source is missing or not text was skipped"),
    ({**CODE, "source": ["x = 1\n", 2]}, "a cell whose source is missing or not text was skipped"),
    ({k: v for k, v in CODE.items() if k != "source"}, "a cell whose source is missing or not text was skipped"),
])
def test_a_cell_that_cannot_be_repaired_is_skipped_in_place(cell, reason):
    notes = repair.Notes()
    cells = repair.repair_cells([CODE.copy(), cell, TEXT.copy()], notes)
    assert notes.lines() == [f"{reason} (cell 2)"] and notes.skipped == {1}
    assert [c["cell_type"] for c in cells] == ["code", "raw", "markdown"]
    assert cells[1]["source"] == "" and cells[0] == CODE


@pytest.mark.parametrize("step, nb, repaired, note", [
    (repair.set_format_version, {"cells": []}, {"cells": [], "nbformat": 4},
     "the notebook's format version was missing or wrong; it was read as version 4"),
    (repair.set_format_version, {"cells": [], "nbformat": "4"}, {"cells": [], "nbformat": 4},
     "the notebook's format version was missing or wrong; it was read as version 4"),
    (repair.set_format_version, {"worksheets": []}, {"worksheets": [], "nbformat": 3},
     "the notebook's format version was missing or wrong; it was read as version 3"),
    (repair.set_format_version, {"cells": [], "nbformat": 4}, {"cells": [], "nbformat": 4}, None),
    (repair.set_minor_version, {"nbformat": 4}, {"nbformat": 4, "nbformat_minor": 5},
     "the notebook's format minor version was missing or not a number; it was read as 4.5"),
    (repair.set_minor_version, {"nbformat": 4, "nbformat_minor": "5"}, {"nbformat": 4, "nbformat_minor": 5},
     "the notebook's format minor version was missing or not a number; it was read as 4.5"),
    (repair.set_minor_version, {"nbformat": 4, "nbformat_minor": 4}, {"nbformat": 4, "nbformat_minor": 4}, None),
    (repair.reset_notebook_metadata, {"metadata": [1]}, {"metadata": {}},
     "the notebook's metadata was missing or not an object and was reset"),
    (repair.drop_unknown_notebook_fields, {"cells": [], "widgets": {}, "x": 1}, {"cells": []},
     "fields that a notebook does not have were removed from the top level"),
])
def test_each_notebook_repair_fixes_its_fault_and_says_so(step, nb, repaired, note):
    assert step(nb) == note
    assert nb == repaired


def test_cell_positions_count_from_one_and_stay_short():
    assert repair.cell_positions([2]) == "cell 3"
    assert repair.cell_positions([0, 4]) == "cells 1 and 5"
    assert repair.cell_positions(list(range(9))) == "cells 1, 2, 3, 4, 5, 6 and 3 more"


# ---------------------------------------------------------------- whole notebooks, no sandbox

def _set(path, value):
    def plant(nb):
        *parents, key = path
        node = nb
        for step in parents:
            node = node["cells"][step] if isinstance(step, int) else node[step]
        node[key] = value
    return plant


def _delete(path):
    def plant(nb):
        *parents, key = path
        node = nb
        for step in parents:
            node = node["cells"][step] if isinstance(step, int) else node[step]
        del node[key]
    return plant


def _replace_cell(index, value):
    def plant(nb):
        nb["cells"][index] = value
    return plant


# (name, fault planted in the source's JSON, the repair note). Each touches its own cell, so
# together they make one notebook with every fault (cells 0-20 of mixtures: 3 is q1-answer).
FAULTS = [
    ("cell metadata missing", _delete((0, "metadata")),
     "cell metadata that was missing or not an object was reset (cell 1)"),
    ("outputs on a markdown cell", lambda nb: nb["cells"][2].update(outputs=[], execution_count=1),
     "outputs or an execution count on a text cell were removed (cell 3)"),
    ("cell id with a space", _set((3, "id"), "my answer"), f"{ID_NOTE} (cell 4)"),
    ("code cell without outputs", _delete((4, "outputs")),
     "a code cell without a list of outputs was given an empty one (cell 5)"),
    ("unreadable attachments", _set((5, "attachments"), {"a.png": "?"}),
     "attachments that could not be read were removed (cell 6)"),
    ("cell id over 64 characters", _set((6, "id"), "a" * 65), f"{ID_NOTE} (cell 7)"),
    ("execution count as text", _set((7, "execution_count"), "7"),
     "an execution count that was missing or not a number was cleared (cell 8)"),
    ("unknown cell fields", lambda nb: nb["cells"][9].update(collapsed=True, prompt_number=2),
     "fields that a notebook cell does not have were removed (cell 10)"),
    ("attachments on a code cell", _set((10, "attachments"), {}),
     "attachments on a code cell were removed (cell 11)"),
    ("bad output entries", _set((12, "outputs"), [STREAM, {"output_type": "bogus"}, "text"]),
     "outputs that do not follow the notebook format were removed (cell 13)"),
    ("cell of an unknown type", _replace_cell(14, {**TEXT, "cell_type": "heading"}),
     "a cell of unknown type was skipped (cell 15)"),
    ("tags that are not a list", _set((15, "metadata", "tags"), "answer"),
     "cell metadata that does not follow the notebook format was removed (cell 16)"),
    ("attachment of the wrong shape", _set((17, "attachments"), {"a.png": {"image/png": 5}}),
     "a cell that does not follow the notebook format was skipped (cell 18)"),
    ("execution count missing", _delete((18, "execution_count")),
     "an execution count that was missing or not a number was cleared (cell 19)"),
    ("cell id that is a number", _set((19, "id"), 12), f"{ID_NOTE} (cell 20)"),
    ("cell that is not an object", _replace_cell(20, "## Where next"),
     "a cell that is not a JSON object was skipped (cell 21)"),
    ("duplicated cell ids", lambda nb: nb["cells"][16].update(id=nb["cells"][15]["id"]),
     "a cell id used by an earlier cell was replaced (cell 17)"),
    ("cell id missing", _delete((13, "id")), "a missing cell id was added (cell 14)"),
    ("unknown top-level field", _set(("widgets",), {}),
     "fields that a notebook does not have were removed from the top level"),
    ("minor version missing", _delete(("nbformat_minor",)),
     "the notebook's format minor version was missing or not a number; it was read as 4.5"),
    ("format version missing", _delete(("nbformat",)),
     "the notebook's format version was missing or wrong; it was read as version 4"),
    ("kernelspec without a name", _set(("metadata", "kernelspec"), {"display_name": 3}),
     "notebook metadata that does not follow the notebook format was removed"),
]
ONLY_ALONE = [  # faults that exclude one in FAULTS
    ("notebook metadata missing", _delete(("metadata",)),
     "the notebook's metadata was missing or not an object and was reset"),
]


def with_every_fault(source) -> dict:
    nb = raw(source)
    for _, plant, _ in FAULTS:
        plant(nb)
    return nb


def test_an_intact_notebook_needs_no_repair(source):
    nb, notes = parse_with_repairs(nbformat.writes(source))
    assert notes == [] and nb == source


@pytest.mark.parametrize("name, plant, note", FAULTS + ONLY_ALONE, ids=[f[0] for f in FAULTS + ONLY_ALONE])
def test_each_format_fault_is_repaired_and_the_same_cells_are_graded(source, name, plant, note):
    nb = raw(source)
    plant(nb)
    repaired, notes = parse_with_repairs(json.dumps(nb))
    assert notes == [note]
    nbformat.validate(repaired)
    assert jobs(source, repaired) == jobs(source, source)


def test_a_byte_order_mark_is_ignored(source):
    repaired, notes = parse_with_repairs("\ufeff" + nbformat.writes(source))
    assert notes == ["a byte-order mark before the notebook was ignored"] and repaired == source


def test_every_fault_at_once_is_repaired_and_the_same_cells_are_graded(source):
    repaired, notes = parse_with_repairs(json.dumps(with_every_fault(source)))
    assert notes == [
        "the notebook's format version was missing or wrong; it was read as version 4",
        "the notebook's format minor version was missing or not a number; it was read as 4.5",
        "fields that a notebook does not have were removed from the top level",
        "cell metadata that was missing or not an object was reset (cell 1)",
        "outputs or an execution count on a text cell were removed (cell 3)",
        f"{ID_NOTE} (cells 4, 7 and 20)",
        "a code cell without a list of outputs was given an empty one (cell 5)",
        "attachments that could not be read were removed (cell 6)",
        "an execution count that was missing or not a number was cleared (cells 8 and 19)",
        "fields that a notebook cell does not have were removed (cell 10)",
        "attachments on a code cell were removed (cell 11)",
        "outputs that do not follow the notebook format were removed (cell 13)",
        "a cell of unknown type was skipped (cell 15)",
        "a cell that is not a JSON object was skipped (cell 21)",
        "a missing cell id was added (cell 14)",
        "cell metadata that does not follow the notebook format was removed (cell 16)",
        "a cell id used by an earlier cell was replaced (cell 17)",
        "notebook metadata that does not follow the notebook format was removed",
        "a cell that does not follow the notebook format was skipped (cell 18)",
    ]
    nbformat.validate(repaired)
    assert len(repaired.cells) == len(source.cells)
    assert jobs(source, repaired) == jobs(source, source)


def test_cells_still_invalid_after_every_repair_are_skipped_together(source):
    nb = raw(source)
    for index in (0, 2):  # attachments whose data is not text: no repair step knows them
        nb["cells"][index]["attachments"] = {"a.png": {"image/png": 5}, "b.png": {"image/png": [6]}}
    repaired, notes = parse_with_repairs(json.dumps(nb))
    assert notes == ["a cell that does not follow the notebook format was skipped (cells 1 and 3)"]
    assert [repaired.cells[i].cell_type for i in (0, 2)] == ["raw", "raw"]
    assert jobs(source, repaired) == jobs(source, source)


def test_an_answer_whose_nbgrader_metadata_is_damaged_still_runs_in_its_place(source):
    nb = raw(source)
    nb["cells"][3]["metadata"]["nbgrader"] = "q1-answer"
    repaired, notes = parse_with_repairs(json.dumps(nb))
    assert notes == ["nbgrader metadata that could not be read was removed "
                     "(the cell counts as one you added) (cell 4)"]
    # it runs as an added cell just before the (now empty) answer slot, so q1 sees it
    assert jobs(source, repaired)[:4] == [
        ("setup", "locked", source.cells[1].source), ("added-3", "added", source.cells[3].source),
        ("q1-answer", ANSWER, ""), ("q1", "test", source.cells[4].source)]


def test_an_answer_cell_that_cannot_be_read_leaves_only_its_answer_empty(source):
    nb = raw(source)
    nb["cells"][18]["source"] = {"code": "def outlier_probability(): ..."}
    repaired, notes = parse_with_repairs(json.dumps(nb))
    assert notes == ["a cell whose source is missing or not text was skipped (cell 19)"]
    expected = [job if job[0] != "q6-answer" else ("q6-answer", ANSWER, "") for job in jobs(source, source)]
    assert jobs(source, repaired) == expected


@pytest.mark.parametrize("text, reason", [
    ('{"cells": [3, "x", null], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
     "the file is not a readable notebook (not a valid notebook: none of its cells can be read)"),
    ('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
     "the notebook has no code cells, so there is no answer to grade"),
    ('{"cells": [{"cell_type": "markdown", "source": "my answer: 42", "metadata": {}}, {"cell_type": "code"}]}',
     "the notebook has no code cells, so there is no answer to grade"),
    ('{"cells": [], "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "the file is not a readable notebook (the JSON is nested too deeply to be a notebook)"),
    ('{"cells": {"0": {}}, "nbformat": 4}', "the file is not a readable notebook (the JSON has no list of cells)"),
])
def test_a_notebook_without_a_readable_code_cell_is_ungradable_with_its_reason(source, oracle, text, reason):
    assert grade_submission(source, text.encode(), oracle) == {"status": "ungradable", "reason": reason}


# ---------------------------------------------------------------- duplicated cells, no sandbox

def duplicated_answer(source, wrong_first: bool) -> dict:
    """q3-answer pasted twice: a wrong copy before the right one, or after q3's test cell."""
    nb = raw(source)
    if wrong_first:
        nb["cells"].insert(at(nb, "q3-answer"), copy_of(nb, "q3-answer", WRONG_Q3))
    else:
        nb["cells"].insert(at(nb, "q3") + 1, copy_of(nb, "q3-answer", WRONG_Q3))
    return nb


def duplicated_locked_cells(source) -> dict:
    """Edited copies of the setup cell and of q2's test cell: neither may run."""
    nb = raw(source)
    nb["cells"].insert(at(nb, "setup") + 1, copy_of(nb, "setup", "import os\nos._exit(7)"))
    nb["cells"].insert(at(nb, "q2") + 1, copy_of(nb, "q2", "assert False, 'copy of q2'"))
    return nb


def answers(cells) -> dict:
    return {job.id: job.source for job in cells if job.role == ANSWER}


@pytest.mark.parametrize("wrong_first", [True, False], ids=["wrong copy first", "wrong copy last"])
def test_the_last_copy_of_a_duplicated_answer_is_the_answer_in_grade_and_validate(source, wrong_first):
    nb = parse_with_repairs(json.dumps(duplicated_answer(source, wrong_first)))[0]
    last = WRONG_Q3 if not wrong_first else source.cells[9].source
    graded, own = submission_cells(source, nb), submission_cells(own_skeleton(nb), nb)
    assert answers(graded) == answers(own) == {**answers(submission_cells(source, source)), "q3-answer": last}
    # the earlier copy runs as an ordinary cell before the answer, as nbgrader runs it
    earlier = ("added-9", "added", WRONG_Q3 if wrong_first else source.cells[9].source)
    for cells in (graded, own):
        ids = [(j.id, j.role, j.source) for j in cells]
        assert ids.index(earlier) == ids.index(("q3-answer", ANSWER, last)) - 1


def test_copies_of_locked_and_test_cells_never_run(source):
    nb = parse_with_repairs(json.dumps(duplicated_locked_cells(source)))[0]
    assert duplicated_cells(nb) == {"setup": [1, 2], "q2": [8, 9]}
    assert jobs(source, nb) == jobs(source, source)
    own = [(j.id, j.role, j.source) for j in submission_cells(own_skeleton(nb), nb)]
    assert own == [(j[0], j[1], j[2]) for j in jobs(source, source)]


def test_validate_says_which_copy_of_each_duplicated_cell_is_used(source):
    nb = raw(source)
    nb["cells"].insert(at(nb, "q3") + 1, copy_of(nb, "q3-answer", WRONG_Q3))
    nb["cells"].insert(at(nb, "q2") + 1, copy_of(nb, "q2"))
    nb = parse_with_repairs(json.dumps(nb))[0]
    assert duplicate_warnings(nb) == [
        "cell 'q2' appears 2 times (cells 8 and 9): only the first copy runs here, and the "
        "original when graded; delete the other copies",
        "answer cell 'q3-answer' appears 2 times (cells 11 and 13): the last copy (cell 13) is your "
        "answer, here and when graded; the other copies run as ordinary cells",
    ]


def test_warnings_name_a_cell_with_an_unusual_grade_id_only_by_its_position(source):
    nb = raw(source)
    for cell in (nb["cells"][4], nb["cells"][7]):
        cell["metadata"]["nbgrader"].update(grade_id="q1\x1b[2J<script>", checksum="0")
    nb["cells"][10]["metadata"]["nbgrader"] = {"locked": True, "checksum": "0"}  # no grade_id
    nb = parse_with_repairs(json.dumps(nb))[0]
    assert [cell_name(nb, i) for i in (1, 4)] == ["cell 'setup'", "cell 5"]
    assert duplicate_warnings(nb) == [
        "cell 5 appears 2 times (cells 5 and 8): only the first copy runs here, and the original "
        "when graded; delete the other copies"]
    assert edited_locked_cells(nb) == [4, 7, 10]


# ---------------------------------------------------------------- the real path, sandboxed

def test_a_class_of_damaged_and_duplicated_notebooks_is_graded_on_what_can_be_read(course, source):
    course.submit("faults", json.dumps(with_every_fault(source)))
    course.submit("dup-wrong-first", json.dumps(duplicated_answer(source, wrong_first=True)))
    course.submit("dup-wrong-last", json.dumps(duplicated_answer(source, wrong_first=False)))
    course.submit("dup-locked", json.dumps(duplicated_locked_cells(source)))
    lost = raw(source)
    lost["cells"][18]["source"] = 42
    course.submit("lost-answer", json.dumps(lost))
    course.submit("no-code", '{"cells": [{"cell_type": "markdown", "source": "42", "metadata": {}}, '
                             '{"cell_type": "code", "source": null}]}')

    results = {r["student"]: r for r in course.grade().results}
    assert {s: r["status"] for s, r in results.items()} == {
        "faults": "graded", "dup-wrong-first": "graded", "dup-wrong-last": "graded",
        "dup-locked": "graded", "lost-answer": "graded", "no-code": "ungradable"}
    assert points(results["faults"]) == points(results["dup-wrong-first"]) == FULL
    assert points(results["dup-locked"]) == FULL
    assert points(results["dup-wrong-last"]) == {**FULL, "q3": 0}
    assert [q["message"] for q in results["dup-wrong-last"]["questions"] if q["id"] == "q3"] == [WRONG_Q3_MESSAGE]
    assert points(results["lost-answer"]) == {**FULL, "q6": 0}
    assert results["no-code"]["reason"] == "the notebook has no code cells, so there is no answer to grade"
    assert results["faults"]["repairs"] == parse_with_repairs(json.dumps(with_every_fault(source)))[1]
    assert results["lost-answer"]["repairs"] == ["a cell whose source is missing or not text was skipped (cell 19)"]
    with course.gradebook() as gb:
        scores = {s.student.id: s.score for s in gb.find_assignment("mixtures").submissions}
    assert {s: scores[s] for s in results if s != "no-code"} == {
        "faults": 11, "dup-wrong-first": 11, "dup-wrong-last": 9, "dup-locked": 11, "lost-answer": 10}


def test_validate_repairs_and_picks_the_same_copy_as_grading(source, tmp_path):
    path = tmp_path / "mixtures.ipynb"
    nb = with_every_fault(source)
    nb["cells"].insert(at(nb, "q3") + 1, copy_of(nb, "q3-answer", WRONG_Q3))  # the last copy is wrong
    path.write_text(json.dumps(nb), encoding="utf-8")
    results, warnings = validate(path)
    assert {r.id: r.points for r in results} == {**FULL, "q3": 0}
    (q3,) = [r for r in results if r.id == "q3"]
    assert q3.message.startswith("AssertionError: sigmas should be [0.816, 0] (divide by N_k, not N;")
    repaired = parse_with_repairs(json.dumps(nb))[0]
    assert warnings == [f"repaired: {note}" for note in parse_with_repairs(json.dumps(nb))[1]] + [
        "answer cell 'q3-answer' appears 2 times (cells 10 and 12): the last copy (cell 12) is your "
        "answer, here and when graded; the other copies run as ordinary cells"]
    assert answers(submission_cells(own_skeleton(repaired), repaired)) == \
        answers(submission_cells(source, repaired))
