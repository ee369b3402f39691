"""Reading notebooks safely and telling nbgrader's cell roles apart.

Every notebook read here goes through repair.py: small format faults are repaired, and only
a file from which no notebook can be read raises (a ValueError, or an AutograderError from
``read_notebook``).
"""
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import AutograderError
from .repair import repair_notebook

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
ANSWER, TEST, LOCKED, PLAIN = "answer", "test", "locked", "plain"
BYTE_ORDER_MARK = "\ufeff"


def read_notebook(path: Path | str) -> nbformat.NotebookNode:
    """Read a notebook (any nbformat version, upgraded to v4.5, repaired) or raise a one-line error."""
    return read_with_repairs(path)[0]


def read_with_repairs(path: Path | str) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook at ``path`` and what was repaired in it (see repair.py), or raise a one-line error."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a notebook" if path.is_dir() else "does not exist"
        raise AutograderError(f"{path} {what}: give the path of an .ipynb file")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise AutograderError(
            f"{path} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB: clear its outputs and try again"
        )
    try:
        return parse_with_repairs(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise AutograderError(
            f"{path} is not a readable notebook ({err}): restore it from a checkpoint or "
            "download the exercise again"
        ) from None


def parse_notebook(text: str) -> nbformat.NotebookNode:
    """Parse notebook JSON, repairing what can be repaired; raise ValueError if it is not a notebook."""
    return parse_with_repairs(text)[0]


def parse_with_repairs(text: str) -> tuple[nbformat.NotebookNode, list[str]]:
    """(the notebook, repair notes) from notebook JSON; ValueError with a short reason if no
    notebook can be read from it (not JSON, no list of cells, no cell that can be read)."""
    bom = text.startswith(BYTE_ORDER_MARK)
    try:
        raw = json.loads(text.removeprefix(BYTE_ORDER_MARK))
    except json.JSONDecodeError as err:
        raise ValueError(f"invalid JSON at line {err.lineno}, column {err.colno}") from None
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to be a notebook") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise ValueError("the JSON has no list of cells")
    try:
        nb, notes = repair_notebook(raw)
    except RecursionError:
        raise ValueError("not a valid notebook: it is nested too deeply") from None
    return nb, (["a byte-order mark before the notebook was ignored"] if bom else []) + notes


def cell_role(cell) -> str:
    """nbgrader's role of a cell: an answer, a graded test, a locked cell, or plain."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("solution"):
        return ANSWER
    if meta.get("grade"):
        return TEST
    if meta.get("locked"):
        return LOCKED
    return PLAIN


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


HIDDEN_TESTS_BEGIN = "### BEGIN HIDDEN TESTS"


@dataclass(frozen=True)
class Question:
    """A graded test cell: its grade_id, points, code, and the answer cells it checks
    (those since the previous graded cell)."""
    id: str
    points: float
    source: str = ""
    answers: tuple[str, ...] = ()

    @property
    def visible_lines(self) -> int:
        """How many lines of the test cell come before its hidden tests."""
        lines = self.source.splitlines()
        marks = [i for i, line in enumerate(lines) if line.strip() == HIDDEN_TESTS_BEGIN]
        return marks[0] if marks else len(lines)


def questions(nb) -> list[Question]:
    """The graded code cells of a source or released notebook, in order."""
    found, answers = [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell_role(cell) == ANSWER:
            answers.append(grade_id(cell))
        elif cell_role(cell) == TEST:
            found.append(Question(grade_id(cell), float(cell.metadata["nbgrader"].get("points", 0)),
                                  cell.source, tuple(answers)))
            answers = []
    return found
