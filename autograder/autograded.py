"""The autograded notebook formgrader shows: ``autograded/<student>/<assignment>/<assignment>.ipynb``.

It is the notebook as graded: the source's cells in order (its setup and test cells,
hidden tests included, and its text), each answer cell holding the student's answer, and
the cells a student added where they stood. It has no outputs: what the student's process
printed is untrusted and never shown to the instructor either. Each cell keeps nbgrader's
metadata, so formgrader links it to its grades and comments and the instructor can add
manual grades and comments there, which ``nbgrader export`` includes.

The notebook holds hidden tests, so it stays in the instructor's ``autograded/`` folder; the
students' feedback pages are made from the recorded results, never from it.
"""
import copy

import nbformat

from .assemble import submission_cells
from .course import AUTOGRADED_DIR, Assignment
from .files import write_whole
from .notebook import grade_id, parse_with_repairs


def graded_notebook(source_nb, submission_nb) -> nbformat.NotebookNode:
    """The source's cells with the submission's answers and added cells, outputs cleared."""
    code_index = {grade_id(c) or f"cell-{i}": i for i, c in enumerate(source_nb.cells) if c.cell_type == "code"}
    cells, start = [], 0
    for job in submission_cells(source_nb, submission_nb):
        if job.id in code_index:
            index = code_index[job.id]
            cells.extend(copy.deepcopy(c) for c in source_nb.cells[start:index])
            cell = copy.deepcopy(source_nb.cells[index])
            cell.source = job.source
            cells.append(cell)
            start = index + 1
        else:
            cells.append(nbformat.v4.new_code_cell(job.source, id=job.id))
    cells.extend(copy.deepcopy(c) for c in source_nb.cells[start:])
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.from_dict({**source_nb, "cells": cells})


def write_graded_notebook(assignment: Assignment, source_nb, student: str, data: bytes | None) -> None:
    """Write (``data``: the graded submission's bytes) or remove (None) the student's autograded notebook."""
    path = assignment.student_dir(AUTOGRADED_DIR, student) / assignment.notebook_name
    if data is None:
        path.unlink(missing_ok=True)
        return
    submission, _notes = parse_with_repairs(data.decode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, nbformat.writes(graded_notebook(source_nb, submission)).encode("utf-8"))
