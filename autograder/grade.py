"""Grading one notebook against the reference solution's recorded probes (the oracle)."""
from dataclasses import dataclass

from .assemble import notebook_cells, submission_cells
from .errors import AutograderError
from .notebook import questions
from .runner import Limits, RunOutcome, run_cells
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


def grade_notebook(source_nb, submission_nb, oracle: Oracle, limits: Limits = Limits()) -> list[QuestionResult]:
    """Run a submission on the source's skeleton and score it against the oracle."""
    outcome = run_cells(submission_cells(source_nb, submission_nb), limits=limits)
    return score(questions(source_nb), outcome, oracle.probes)
