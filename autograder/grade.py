"""Grading one notebook against the reference solution's recorded probes (the oracle)."""
from dataclasses import asdict, dataclass

from .assemble import notebook_cells, submission_cells
from .errors import AutograderError
from .notebook import parse_with_repairs, questions
from .runner import Limits, RunOutcome, run_cells
from .sandbox import Sandbox, find_sandbox
from .store import GRADED, UNGRADABLE
from .verdict import PASSED, QuestionResult, score


@dataclass
class Oracle:
    """What the reference solution recorded: probes per question, and the raw run."""
    probes: dict
    outcome: RunOutcome


def reference_oracle(source_nb, limits: Limits = Limits()) -> Oracle:
    """Run the reference solution with its hidden tests; every test cell must pass."""
    graded = questions(source_nb)
    outcome = run_cells(notebook_cells(source_nb), limits=limits)
    for result in score(graded, outcome, oracle=None):
        if result.status != PASSED:
            raise AutograderError(
                f"the reference solution fails its own test cell '{result.id}': {result.message}")
    probes = outcome.probes()
    return Oracle({q.id: probes.get(q.id, {}) for q in graded}, outcome)


def grade_notebook(source_nb, submission_nb, oracle: Oracle, limits: Limits = Limits(),
                   sandbox: Sandbox | None = None) -> list[QuestionResult]:
    """Run a submission on the source's skeleton and score it against the oracle."""
    outcome = run_cells(submission_cells(source_nb, submission_nb), limits=limits, sandbox=sandbox)
    return score(questions(source_nb), outcome, oracle.probes)


def grade_submission(source_nb, data: bytes, oracle: Oracle, limits: Limits = Limits()) -> dict:
    """Grade a submission's raw bytes; plain data out (this runs in grading workers).

    Small format faults are repaired and the cells that can be read are graded (the notes
    say what was repaired). A file from which no notebook, or no code cell, can be read is
    ``ungradable`` with the reason; anything the student's code does only changes the
    per-question results. Errors of the grader itself propagate.
    """
    try:
        submission, repairs = parse_with_repairs(data.decode("utf-8"))
    except UnicodeDecodeError:
        return {"status": UNGRADABLE, "reason": "the file is not UTF-8 text, so not a notebook"}
    except ValueError as err:
        return {"status": UNGRADABLE, "reason": f"the file is not a readable notebook ({err})"}
    if not any(cell.cell_type == "code" for cell in submission.cells):
        return {"status": UNGRADABLE,
                "reason": "the notebook has no code cells, so there is no answer to grade"}
    sandbox = find_sandbox()
    results = grade_notebook(source_nb, submission, oracle, limits, sandbox)
    return {"status": GRADED, "isolated": sandbox.isolated, "questions": [asdict(r) for r in results],
            "repairs": repairs}
