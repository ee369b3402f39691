"""Which code runs when a notebook is checked or graded.

For grading, a submission is rebuilt on the source notebook's skeleton, as nbgrader's
autograde does: setup and test cells come from the source (so editing or deleting them
changes nothing and the hidden tests come back), answers come from the submission, and
cells a student added stay where they were, after the cell they followed.
"""
from .notebook import ANSWER, cell_role, grade_id
from .runner import CellJob


def notebook_cells(nb) -> list[CellJob]:
    """The code cells of one notebook as they stand (for the reference or for validate)."""
    return [
        CellJob(grade_id(cell) or f"cell-{index}", cell_role(cell), cell.source)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
    ]


def submission_cells(source, submission) -> list[CellJob]:
    """The source's setup and tests with the submission's answers and added cells."""
    source_roles = {grade_id(c): cell_role(c) for c in source.cells if grade_id(c)}
    answers: dict[str, str] = {}
    added: dict[str | None, list[CellJob]] = {}
    seen: set[str] = set()
    anchor = None
    for index, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        cid = grade_id(cell)
        if cid in source_roles:
            if cid not in seen and source_roles[cid] == ANSWER:
                answers[cid] = cell.source
            if cid not in seen:
                anchor = cid
            seen.add(cid)  # a duplicated known cell is dropped: the source's copy runs
            continue
        added.setdefault(anchor, []).append(CellJob(f"added-{index}", "added", cell.source))

    cells = list(added.get(None, []))
    for job in notebook_cells(source):
        if job.role == ANSWER:
            job = CellJob(job.id, job.role, answers.get(job.id, ""))
        cells.append(job)
        cells.extend(added.get(job.id, []))
    return cells
