"""A student's check of their own notebook: run it and report the visible checks.

Only what the student already has runs here; hidden checks run when the work is graded.
"""
from pathlib import Path

from nbgrader.utils import compute_checksum

from .assemble import notebook_cells
from .errors import AutograderError
from .notebook import ANSWER, cell_role, grade_id, questions, read_notebook
from .runner import run_cells
from .sandbox import Sandbox
from .verdict import QuestionResult, score


def edited_locked_cells(nb) -> list[str]:
    """Ids of locked and test cells whose content no longer matches nbgrader's checksum."""
    return [
        grade_id(cell) for cell in nb.cells
        if cell_role(cell) != ANSWER and "checksum" in cell.metadata.get("nbgrader", {})
        and compute_checksum(cell) != cell.metadata["nbgrader"]["checksum"]
    ]


def validate(path: Path | str) -> tuple[list[QuestionResult], list[str]]:
    """(one result per question, warnings) for the notebook at ``path``."""
    path = Path(path)
    nb = read_notebook(path)
    if not questions(nb):
        raise AutograderError(
            f"{path} has no graded cells: validate an exercise notebook from exercises/<chapter>/"
        )
    warnings = [
        f"cell '{cid}' was edited; the original will replace it when graded"
        for cid in edited_locked_cells(nb)
    ]
    # A student's own code on their own machine: no sandbox, run beside the notebook.
    outcome = run_cells(notebook_cells(nb), workdir=path.parent.resolve(),
                        sandbox=Sandbox(None, "validate runs your own code"))
    return score(questions(nb), outcome, oracle=None), warnings
