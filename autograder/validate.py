"""A student's check of their own notebook: run it and report the visible checks.

Only what the student already has runs here; hidden checks run when the work is graded.
The notebook is read, repaired and rebuilt exactly as grading reads, repairs and rebuilds a
submission (see repair.py and assemble.py), on the trusted copy a student has: the course's
release of the exercise (``exercises/<slug>/<slug>.ipynb``, found by the file's name or by a
locked cell it shares), so edited, duplicated or deleted setup and test cells run as the
exercise has them, as when graded. Without a matching release it is rebuilt on its own
skeleton (the first copy of each nbgrader cell), with a warning.

It is the student's own code on their own machine, so messages quote its errors as raised,
in one line, and say what caused them: a deleted answer cell, an answer cell's SyntaxError or
error (before the test's NameError it causes), a name defined only in a later cell. The
warnings say what was repaired, which copies were used and which locked cells were edited or
deleted; they name a cell by its grade_id only when that id is plain (letters, digits, '-',
'_', '.'), and otherwise by its position.
"""
import ast
import re
from dataclasses import replace
from pathlib import Path

from nbgrader.utils import compute_checksum

from .assemble import duplicated_cells, own_skeleton, submission_cells
from .course import RELEASE_DIR, ROOT, Assignment, assignment_names
from .errors import AutograderError
from .notebook import ANSWER, TEST, cell_role, grade_id, questions, read_notebook, read_with_repairs
from .repair import cell_positions
from .runner import CellJob, Limits, run_cells, to_python
from .runner import cell_name as job_cell_name  # validate's own cell_name names a notebook cell
from .sandbox import Sandbox
from .verdict import FAILED, NOT_ANSWERED, QuestionResult, error_summary, score

PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
UNDEFINED_NAME = re.compile(r"^NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")
SYNTAX_ERRORS = {"SyntaxError", "IndentationError", "TabError"}
CLOCK_SLACK_SECONDS = 2.0    # a checkpoint this much newer than the file was written after it
JUST_SAVED_SECONDS = 3.0     # a file written this recently may still be being saved
NO_RELEASE = ("no exercise in {} matches this notebook, so its test cells ran as they stand; "
              "the originals will replace edited or deleted ones when graded")


def cell_name(nb, index: int) -> str:
    """How a warning names a cell: by a plain grade_id (cell 'q2'), else by position (cell 8)."""
    cid = grade_id(nb.cells[index]) or ""
    return f"cell '{cid}'" if PLAIN_ID.fullmatch(cid) else f"cell {index + 1}"


def _edited(cell) -> bool:
    try:
        return compute_checksum(cell) != cell.metadata["nbgrader"]["checksum"]
    except (KeyError, TypeError, ValueError):  # metadata too damaged to check: it was edited
        return True


def edited_locked_cells(nb) -> list[int]:
    """Positions of locked and test cells whose content no longer matches nbgrader's checksum."""
    return [
        index for index, cell in enumerate(nb.cells)
        if cell_role(cell) != ANSWER and "checksum" in cell.metadata.get("nbgrader", {}) and _edited(cell)
    ]


def duplicate_warnings(nb, from_release: bool = False) -> list[str]:
    """One line per duplicated nbgrader cell: which copy is used here (the exercise's original
    when ``from_release``) and when graded."""
    lines = []
    for places in duplicated_cells(nb).values():
        first, where = places[0], f"appears {len(places)} times ({cell_positions(places)})"
        if cell_role(nb.cells[first]) == ANSWER:
            lines.append(f"answer {cell_name(nb, first)} {where}: the last copy (cell {places[-1] + 1}) "
                         "is your answer, here and when graded; the other copies run as ordinary cells")
        else:
            runs = ("the original from the exercise runs, here and when graded" if from_release
                    else "only the first copy runs here, and the original when graded")
            lines.append(f"{cell_name(nb, first)} {where}: {runs}; delete the other copies")
    return lines


def _locked_cells(nb) -> set[tuple[str, str]]:
    """(grade_id, code) of the setup and test cells: what identifies an exercise."""
    return {(grade_id(cell), cell.source) for cell in nb.cells
            if cell.cell_type == "code" and grade_id(cell) and cell_role(cell) != ANSWER}


def find_release(nb, path: Path, root: Path = ROOT):
    """The course's release of this notebook's exercise, or None: the release named like the
    notebook (else any other) that shares at least one unedited setup or test cell with it."""
    names = [path.stem] + [name for name in assignment_names(root) if name != path.stem]
    kept = _locked_cells(nb)
    for name in names:
        release = Assignment(name, root).release
        if PLAIN_ID.fullmatch(name) and release.is_file():
            candidate = read_notebook(release)
            if kept & _locked_cells(candidate):
                return candidate
    return None


def deleted_cells(release, nb) -> list[str]:
    """grade_ids of the release's graded and locked code cells that the notebook lacks."""
    present = {grade_id(cell) for cell in nb.cells if cell.cell_type == "code"}
    return [grade_id(cell) for cell in release.cells
            if cell.cell_type == "code" and grade_id(cell) and grade_id(cell) not in present]


def deletion_warnings(release, deleted: list[str]) -> list[str]:
    """One line per deleted locked or test cell (a deleted answer is told on its question)."""
    roles = {grade_id(cell): cell_role(cell) for cell in release.cells}
    return [f"the {'test ' if roles[cid] == TEST else ''}cell '{cid}' was deleted: "
            "it is restored from the exercise when graded"
            for cid in deleted if roles[cid] != ANSWER and PLAIN_ID.fullmatch(cid)]


class _TopLevelNames(ast.NodeVisitor):
    """The names a cell binds at module level (not inside functions, classes or lambdas)."""

    def __init__(self):
        self.names: set[str] = set()

    def _define(self, node):
        self.names.add(node.name)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _define

    def visit_Lambda(self, node):
        pass

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Store):
            self.names.add(node.id)

    def visit_Import(self, node):
        self.names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)

    visit_ImportFrom = visit_Import


def defined_names(source: str) -> set[str]:
    """The module-level names a cell's code defines (none if it does not parse)."""
    try:
        tree = ast.parse(to_python(source))
    except (SyntaxError, ValueError, RecursionError):
        return set()
    visitor = _TopLevelNames()
    visitor.visit(tree)
    return visitor.names


def _ran_too_early(error: str, cell_id: str, cells: list[CellJob]) -> str:
    """For a NameError, where the name is defined if a cell after ``cell_id`` defines it."""
    undefined = UNDEFINED_NAME.search(error)
    order = [job.id for job in cells]
    if not undefined or cell_id not in order:
        return ""
    name = undefined.group(1)
    later = next((job for job in cells[order.index(cell_id) + 1:] if name in defined_names(job.source)), None)
    return "" if later is None else (f": '{name}' is defined in a later cell ({job_cell_name(later.id)}); "
                                     "cells run from top to bottom, so move it above the cell that uses it")


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "AEIOU" else f"a {word}"


def own_run_message(question, state: dict, statuses: dict, cells: list[CellJob], deleted: list[str]) -> str:
    """Why a question failed in the student's own run, in their own run's words: a deleted or
    broken answer cell first (the test's error is only its consequence), else the test's error."""
    for answer in question.answers:
        if answer in deleted:
            return f"the answer cell '{answer}' was deleted: question {question.id} gets no points"
    for answer in question.answers:
        broken = statuses.get(answer, {})
        text = error_summary(broken.get("error", ""))
        if broken.get("status") != "error" or text == NOT_ANSWERED:
            continue
        kind = broken.get("error_type", "")
        where = f" at line {broken['line']}" if broken.get("line") else ""
        if kind in SYNTAX_ERRORS:
            return f"your answer cell '{answer}' has {_article(kind)}{where}: {text.removeprefix(kind + ': ')}"
        return f"your answer cell '{answer}' stopped{where} with {text}" + _ran_too_early(text, answer, cells)
    text = error_summary(state.get("error", ""))
    return text + _ran_too_early(text, question.id, cells)


def unsaved_warnings(path: Path, now: float) -> list[str]:
    """Signs that what JupyterLab shows is not what is saved: a checkpoint newer than the
    file (a checkpoint is written when the student saves, so it is never newer than the
    file it copies unless the file was replaced since), or a file written in the last few
    seconds, which JupyterLab may still be saving. A freshly fetched copy keeps the
    release's time, so it warns of neither."""
    saved = path.stat().st_mtime
    checkpoint = path.parent / ".ipynb_checkpoints" / f"{path.stem}-checkpoint{path.suffix}"
    lines = []
    if checkpoint.is_file() and checkpoint.stat().st_mtime > saved + CLOCK_SLACK_SECONDS:
        lines.append("JupyterLab's checkpoint of this notebook is newer than the file itself: save the "
                     "notebook (File ▸ Save, Ctrl/Cmd-S) and validate again")
    if 0 <= now - saved < JUST_SAVED_SECONDS:
        lines.append(f"the file was written {now - saved:.0f} s ago: if JupyterLab is still saving, wait "
                     "a moment and validate again")
    return lines


def validate(path: Path | str, root: Path = ROOT, limits: Limits = Limits(),
             progress=None) -> tuple[list[QuestionResult], list[str]]:
    """(one result per question, warnings) for the notebook at ``path``; its test and locked
    cells come from the course's release in ``root`` when one matches, as when graded.
    ``progress(question_id)`` is called as each question's test cell finishes."""
    path = Path(path)
    nb, repairs = read_with_repairs(path)
    release = find_release(nb, path, root)
    skeleton = release or own_skeleton(nb)
    graded = questions(skeleton)
    if not graded:
        raise AutograderError(
            f"{path} has no graded cells: validate an exercise notebook from exercises/<chapter>/"
        )
    deleted = deleted_cells(release, nb) if release else []
    edited = ("the original from the exercise runs instead, here and when graded" if release
              else "the original will replace it when graded")
    warnings = [f"repaired: {note}" for note in repairs] + duplicate_warnings(nb, bool(release)) + [
        f"{cell_name(nb, index)} was edited; {edited}" for index in edited_locked_cells(nb)
    ] + (deletion_warnings(release, deleted) if release else [NO_RELEASE.format(root / RELEASE_DIR)])
    # A student's own code on their own machine: no sandbox, run beside the notebook.
    cells = submission_cells(skeleton, nb)
    ids = {q.id for q in graded}
    on_event = (lambda e: progress(e["cell"]) if e["event"] == "cell" and e["cell"] in ids else None) \
        if progress else None
    outcome = run_cells(cells, workdir=path.parent.resolve(), limits=limits,
                        sandbox=Sandbox(None, "validate runs your own code"), on_event=on_event)
    statuses = outcome.cell_status()
    return [replace(result, message=own_run_message(q, statuses[q.id], statuses, cells, deleted))
            if result.status == FAILED and q.id in statuses else result
            for q, result in zip(graded, score(graded, outcome, oracle=None))], warnings
