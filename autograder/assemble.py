"""Which code runs when a notebook is checked or graded.

For grading, a submission is rebuilt on the source notebook's skeleton, as nbgrader's
autograde does: setup and test cells come from the source (so editing, deleting or
duplicating them changes nothing and the hidden tests come back), answers come from the
submission, and cells a student added stay where they were, after the cell they followed.
``validate`` rebuilds a student's notebook the same way on its own skeleton (the first copy
of each nbgrader cell), so both pick the same copy of a duplicated answer cell.

A duplicated answer cell (copy and paste in Jupyter keeps the metadata) is answered by its
LAST copy, as in nbgrader: autograde runs its DeduplicateIds preprocessor
(nbgrader/preprocessors/deduplicateids.py, listed in converters/autograde.py) which walks
the cells in reverse and clears the nbgrader metadata of every earlier copy of a grade_id,
so those run as ordinary cells and only the last copy is the graded answer (SaveAutoGrades
then finds the grades by grade_id). The earlier copies run here too, as added cells.
"""
import nbformat

from .notebook import ANSWER, cell_role, grade_id
from .runner import CellJob


def notebook_cells(nb) -> list[CellJob]:
    """The code cells of one notebook as they stand (for the reference solution)."""
    return [
        CellJob(grade_id(cell) or f"cell-{index}", cell_role(cell), cell.source)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
    ]


def duplicated_cells(nb) -> dict[str, list[int]]:
    """{grade_id: positions} of the code cells whose grade_id appears more than once."""
    places: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and grade_id(cell):
            places.setdefault(grade_id(cell), []).append(index)
    return {cid: found for cid, found in places.items() if len(found) > 1}


def own_skeleton(nb) -> nbformat.NotebookNode:
    """A notebook's own nbgrader code cells, the first copy of each: what validate rebuilds it on."""
    seen: set[str] = set()
    cells = []
    for cell in nb.cells:
        cid = grade_id(cell)
        if cell.cell_type == "code" and cid and cid not in seen:
            seen.add(cid)
            cells.append(cell)
    return nbformat.from_dict({**nb, "cells": cells})


def submission_cells(source, submission) -> list[CellJob]:
    """The source's setup and tests with the submission's answers (the last copy of each)
    and added cells (including the earlier copies of a duplicated answer)."""
    roles = {grade_id(c): cell_role(c) for c in source.cells if c.cell_type == "code" and grade_id(c)}
    last = {grade_id(c): i for i, c in enumerate(submission.cells) if c.cell_type == "code"}
    answers: dict[str, str] = {}
    added: dict[str | None, list[CellJob]] = {}
    seen: set[str] = set()
    anchor = None
    for index, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        cid = grade_id(cell)
        if cid not in roles or (roles[cid] == ANSWER and index != last[cid]):
            added.setdefault(anchor, []).append(CellJob(f"added-{index}", "added", cell.source))
        elif roles[cid] == ANSWER:
            answers[cid] = cell.source
        # else: a copy of a setup or test cell is dropped; the source's copy runs
        if cid in roles and cid not in seen:
            seen.add(cid)
            anchor = cid

    cells = list(added.get(None, []))
    for job in notebook_cells(source):
        if job.role == ANSWER:
            job = CellJob(job.id, job.role, answers.get(job.id, ""))
        cells.append(job)
        cells.extend(added.get(job.id, []))
    return cells
