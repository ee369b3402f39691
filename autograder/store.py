"""The grader's records: nbgrader's gradebook, and one result file per submission.

Only the trusted parent process writes here (one writer). Each submission's grades go into
the gradebook in one transaction, then its result file is replaced atomically, so a grader
killed at any moment leaves every submission either fully recorded or not at all.

Result file: ``autograded/<student>/<assignment>/autograder-result.json`` with the
submission's content hash (the key that makes regrading idempotent), its status (graded,
ungradable, missing, or grader error), the reason, the time it was received, and the
per-question results.
"""
import fcntl
import json
import os
import sys
import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from .course import AUTOGRADED_DIR, Assignment, put_tools_on_path
from .errors import AutograderError
from .notebook import grade_id

GRADED, UNGRADABLE, MISSING, GRADER_ERROR = "graded", "ungradable", "missing", "grader error"
FINAL = {GRADED, UNGRADABLE, MISSING}   # a rerun leaves these alone while nothing changed
RESULT_FILE = "autograder-result.json"


@contextmanager
def course_lock(root: Path):
    """Hold the course's grading lock; a second grader waits for the first to finish."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".autograder.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("autograder: another grader is running in this course; waiting for it to finish",
                  file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _utc(timestamp: float) -> datetime:
    """nbgrader stores naive UTC datetimes."""
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)


class Store:
    """Results of one assignment in one course."""

    def __init__(self, assignment: Assignment, source_nb):
        self.assignment = assignment
        put_tools_on_path()
        self.gradebook = Gradebook(assignment.gradebook_url)
        self._save_cells(source_nb)

    def close(self) -> None:
        self.gradebook.close()

    def _save_cells(self, source_nb) -> None:
        """Make the gradebook know the assignment's notebook and cells, as generate_assignment
        does (with nbgrader's own SaveCells), unless it already knows these very cells."""
        name = self.assignment.name
        self.gradebook.update_or_create_assignment(name)
        wanted = {grade_id(c): c.source for c in source_nb.cells if grade_id(c)}
        try:
            notebook = self.gradebook.find_notebook(name, name)
            if {c.name: c.source for c in notebook.source_cells} == wanted:
                return
        except MissingEntry:
            pass
        from nbgrader.preprocessors import SaveCells  # imports nbconvert: only when needed
        resources = {"nbgrader": {"db_url": self.assignment.gradebook_url, "assignment": name, "notebook": name}}
        try:
            SaveCells().preprocess(source_nb.copy(), resources)
        except RuntimeError as err:  # nbgrader refuses to change cells once there are submissions
            raise AutograderError(f"the gradebook disagrees with {self.assignment.source}: {err}") from None

    def roster(self) -> set[str]:
        return {student.id for student in self.gradebook.students}

    def result_path(self, student: str) -> Path:
        return self.assignment.student_dir(AUTOGRADED_DIR, student) / RESULT_FILE

    def load(self, student: str) -> dict | None:
        try:
            return json.loads(self.result_path(student).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def results(self) -> list[dict]:
        """Every recorded result of this assignment, sorted by student."""
        base = self.assignment.root / AUTOGRADED_DIR
        found = [self.load(p.name) for p in sorted(base.iterdir())] if base.is_dir() else []
        return [r for r in found if r is not None]

    def record(self, result: dict) -> None:
        """Write one submission's outcome: gradebook first (not for missing or grader
        errors, which are never recorded as a zero), then the result file."""
        if result["status"] in (GRADED, UNGRADABLE):
            self._write_grades(result)
        path = self.result_path(result["student"])
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{RESULT_FILE}.partial")
        partial.write_text(json.dumps({**result, "recorded_at": time.time()}, indent=1,
                                      ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)

    def _write_grades(self, result: dict) -> None:
        gb, name, student = self.gradebook, self.assignment.name, result["student"]
        points = {q["id"]: q["points"] for q in result.get("questions", [])}
        with warnings.catch_warnings():  # nbgrader's own autoflush warnings, harmless here
            warnings.simplefilter("ignore", SAWarning)
            self._write_grades_in_session(gb, name, student, result, points)

    @staticmethod
    def _write_grades_in_session(gb, name, student, result, points) -> None:
        try:
            gb.update_or_create_student(student)
            received = result.get("received_at")
            gb.update_or_create_submission(name, student, timestamp=_utc(received) if received else None)
            for cell in gb.find_notebook(name, name).grade_cells:
                grade = gb.find_grade(cell.name, name, name, student)
                grade.auto_score = points.get(cell.name, 0.0)
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise

    def seconds_late(self, student: str) -> float:
        """How late nbgrader considers the submission (0 when on time or no due date)."""
        try:
            submission = self.gradebook.find_submission(self.assignment.name, student)
        except MissingEntry:
            return 0.0
        return float(submission.total_seconds_late or 0.0)
