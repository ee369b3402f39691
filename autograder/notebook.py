"""Reading notebooks safely and telling nbgrader's cell roles apart."""
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import AutograderError

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
ANSWER, TEST, LOCKED, PLAIN = "answer", "test", "locked", "plain"


def read_notebook(path: Path | str) -> nbformat.NotebookNode:
    """Read a notebook (any nbformat version, upgraded to v4) or raise a one-line error."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a notebook" if path.is_dir() else "does not exist"
        raise AutograderError(f"{path} {what}: give the path of an .ipynb file")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise AutograderError(
            f"{path} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB: clear its outputs and try again"
        )
    try:
        return parse_notebook(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise AutograderError(
            f"{path} is not a readable notebook ({err}): restore it from a checkpoint or "
            "download the exercise again"
        ) from None


def parse_notebook(text: str) -> nbformat.NotebookNode:
    """Parse notebook JSON; raise ValueError with a short reason if it is not a notebook."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"invalid JSON at line {err.lineno}, column {err.colno}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise ValueError("the JSON has no list of cells")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several types for malformed content
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"not a valid notebook: {reason[:200]}") from None
    return nb


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
