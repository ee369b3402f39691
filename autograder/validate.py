"""A student's check of their own notebook: run it and report the visible checks.

Only what the student already has runs here; hidden checks run when the work is graded.
The notebook is read, repaired and rebuilt exactly as grading reads, repairs and rebuilds a
submission (see repair.py and assemble.py), so validate and grade agree on which cells run
and which copy of a duplicated answer cell is the answer. The warnings say what was repaired,
which copies were used and which locked cells were edited; they name a cell by its grade_id
only when that id is plain (letters, digits, '-', '_', '.'), and otherwise by its position.
"""
import re
from pathlib import Path

from nbgrader.utils import compute_checksum

from .assemble import duplicated_cells, own_skeleton, submission_cells
from .errors import AutograderError
from .notebook import ANSWER, cell_role, grade_id, questions, read_with_repairs
from .repair import cell_positions
from .runner import run_cells
from .sandbox import Sandbox
from .verdict import QuestionResult, score

PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


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


def duplicate_warnings(nb) -> list[str]:
    """One line per duplicated nbgrader cell: which copy is used here and when graded."""
    lines = []
    for places in duplicated_cells(nb).values():
        first, where = places[0], f"appears {len(places)} times ({cell_positions(places)})"
        if cell_role(nb.cells[first]) == ANSWER:
            lines.append(f"answer {cell_name(nb, first)} {where}: the last copy (cell {places[-1] + 1}) "
                         "is your answer, here and when graded; the other copies run as ordinary cells")
        else:
            lines.append(f"{cell_name(nb, first)} {where}: only the first copy runs here, and the "
                         "original when graded; delete the other copies")
    return lines


def validate(path: Path | str) -> tuple[list[QuestionResult], list[str]]:
    """(one result per question, warnings) for the notebook at ``path``."""
    path = Path(path)
    nb, repairs = read_with_repairs(path)
    skeleton = own_skeleton(nb)
    graded = questions(skeleton)
    if not graded:
        raise AutograderError(
            f"{path} has no graded cells: validate an exercise notebook from exercises/<chapter>/"
        )
    warnings = [f"repaired: {note}" for note in repairs] + duplicate_warnings(nb) + [
        f"{cell_name(nb, index)} was edited; the original will replace it when graded"
        for index in edited_locked_cells(nb)
    ]
    # A student's own code on their own machine: no sandbox, run beside the notebook.
    outcome = run_cells(submission_cells(skeleton, nb), workdir=path.parent.resolve(),
                        sandbox=Sandbox(None, "validate runs your own code"))
    return score(graded, outcome, oracle=None), warnings
