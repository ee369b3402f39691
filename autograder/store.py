"""The grader's records: nbgrader's gradebook, and one result file per submission.

Only the trusted parent process writes here (one writer). Each submission's grades go into
the gradebook in one transaction, then its result file is replaced atomically, so a grader
killed at any moment leaves every submission either fully recorded or not at all.

Result file: ``autograded/<student>/<assignment>/autograder-result.json`` with the
submission's content hash (the key that makes regrading idempotent), its status (graded,
ungradable, missing, or grader error), the reason, the time it was received, and the
per-question results. Only a graded submission has grades in the gradebook: an ungradable,
missing or failed one is never recorded as a zero.

Storage faults neither hang the grader nor pass silently: while another program holds the
gradebook's lock the grader waits, with backoff, up to ``LOCK_WAIT_SECONDS``; a lock held
longer, a read-only or a full gradebook or course folder stops the run with one line (an
``AutograderError``) saying what to do, and everything recorded before stays recorded.

The course lock is a POSIX record lock (``lockf``): it belongs to the grading process alone
(forked workers do not inherit it) and vanishes with it, so a killed grader never blocks the next.
"""
import errno
import fcntl
import json
import sqlite3
import sys
import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from tornado.log import app_log  # the logger nbgrader's Gradebook writes to

from .course import AUTOGRADED_DIR, GRADEBOOK, Assignment, put_tools_on_path
from .errors import AutograderError
from .files import write_whole
from .notebook import grade_id

GRADED, UNGRADABLE, MISSING, GRADER_ERROR = "graded", "ungradable", "missing", "grader error"
FINAL = {GRADED, UNGRADABLE, MISSING}   # a rerun leaves these alone while nothing changed


def final_score(result: dict):
    """score − nbgrader's late penalty for a graded submission, else "" (no grade, never a zero)."""
    if result["status"] != GRADED:
        return ""
    return result["score"] - (result.get("late_penalty") or 0)
RESULT_FILE = "autograder-result.json"
LOCK_WAIT_SECONDS = 60.0   # how long to wait while another program holds the gradebook's lock
KEPT = "then rerun; results recorded so far are kept"
# SQLite's primary result codes, and what each means for the instructor
_LOCKED = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_GRADEBOOK_FAULTS = {
    **dict.fromkeys(_LOCKED, "stayed locked by another program for over {wait:g} s: finish or close "
                             "that program (sqlite3, nbgrader, formgrader)"),
    **dict.fromkeys((sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM),
                    "is read-only: make it and its folder writable"),
    sqlite3.SQLITE_FULL: "cannot be written (the disk is full): free some space",
    sqlite3.SQLITE_IOERR: "cannot be written (disk I/O error): check the disk's free space and health",
}
_FILE_FAULTS = {errno.ENOSPC: ("the disk is full", "free some space"),
                errno.EDQUOT: ("the disk quota is used up", "free some space"),
                **dict.fromkeys((errno.EROFS, errno.EACCES, errno.EPERM),
                                ("it is read-only", "make the course folder writable"))}


def _sqlite_code(err: BaseException | None) -> int:
    """SQLite's primary result code behind ``err`` (0 if none): SQLAlchemy wraps SQLite's
    errors, and nbgrader re-raises those as its own InvalidEntry."""
    while err is not None and not isinstance(err, sqlite3.Error):
        err = err.__cause__ or err.__context__
    return (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF


def _drop_nbgrader_rollback_logs(record) -> bool:
    """nbgrader logs a traceback for each database error it re-raises; the grader reports
    those itself, in one line."""
    return not str(record.msg).startswith("Rolling back session due to database error")


app_log.addFilter(_drop_nbgrader_rollback_logs)


@contextmanager
def course_lock(root: Path):
    """Hold the course's grading lock; a second grader waits for the first to finish."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".autograder.lock", "a") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            print("autograder: another grader is running in this course; waiting for it to finish",
                  file=sys.stderr, flush=True)
            fcntl.lockf(handle, fcntl.LOCK_EX)
        yield


def late_submission_plugin(root: Path):
    """nbgrader's late-submission plugin as the course's nbgrader_config.py sets it
    (``AssignLatePenalties.plugin_class``, ``LateSubmissionPlugin.penalty_method``; a plugin
    class may live in a module beside that file, as nbgrader's documentation shows)."""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader
    path = root / "nbgrader_config.py"
    if str(root) not in sys.path:
        sys.path.append(str(root))
    try:
        config = PyFileConfigLoader(path.name, path=str(root)).load_config()
    except ConfigFileNotFound:
        config = Config()
    except Exception as err:  # the instructor's own file: say which and why
        raise AutograderError(f"cannot read {path} ({type(err).__name__}: {err}): fix it and rerun") from None
    try:
        assigner = AssignLatePenalties(config=config)
        assigner.init_plugin()
    except Exception as err:
        raise AutograderError(f"the late-submission plugin set in {path} cannot be used "
                              f"({type(err).__name__}: {err}): fix AssignLatePenalties.plugin_class") from None
    return assigner.plugin_inst


def _utc(timestamp: float) -> datetime:
    """nbgrader stores naive UTC datetimes."""
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)


class Store:
    """Results of one assignment in one course."""

    def __init__(self, assignment: Assignment, source_nb):
        self.assignment = assignment
        self.late_plugin = late_submission_plugin(assignment.root)
        put_tools_on_path()
        self.gradebook = None
        self.gradebook = self._patiently(lambda: Gradebook(assignment.gradebook_url))
        self._patiently(lambda: self._save_cells(source_nb))

    def close(self) -> None:
        self.gradebook.close()

    def _patiently(self, action):
        """``action()`` on the gradebook, retried with backoff while another program holds its
        lock (up to LOCK_WAIT_SECONDS); a lasting lock, a read-only or full gradebook is one line."""
        deadline, delay = time.monotonic() + LOCK_WAIT_SECONDS, 0.1
        while True:
            try:
                return action()
            except Exception as err:
                if self.gradebook is not None:
                    self.gradebook.db.rollback()
                code = _sqlite_code(err)
                if code in _LOCKED and time.monotonic() + delay < deadline:
                    time.sleep(delay)
                    delay = min(2 * delay, 2.0)
                    continue
                if code not in _GRADEBOOK_FAULTS:
                    raise
                fault = _GRADEBOOK_FAULTS[code].format(wait=LOCK_WAIT_SECONDS)
                path = self.assignment.root / GRADEBOOK
                raise AutograderError(f"the gradebook {path} {fault}, {KEPT}") from None

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

    def people(self) -> dict[str, dict]:
        """Each roster student's names and e-mail, as nbgrader's roster has them."""
        return self._patiently(lambda: {s.id: {"first_name": s.first_name or "", "last_name": s.last_name or "",
                                               "email": s.email or "", "lms_user_id": s.lms_user_id or ""}
                                        for s in self.gradebook.students})

    def roster(self) -> set[str]:
        return self._patiently(lambda: {student.id for student in self.gradebook.students})

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
        """Write one submission's outcome: its grades in the gradebook first (only when it was
        graded: nothing else is ever recorded as a zero), then its result file."""
        if result["status"] == GRADED:
            result = {**result, "late_penalty": self._patiently(lambda: self._write_grades(result))}
        path = self.result_path(result["student"])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_whole(path, json.dumps({**result, "recorded_at": time.time()}, indent=1,
                                         ensure_ascii=False).encode("utf-8"))
        except OSError as err:
            why, todo = _FILE_FAULTS.get(err.errno, (err.strerror, "check the course folder"))
            raise AutograderError(f"cannot write in {path.parent} ({why}): {todo}, {KEPT}") from None

    def _write_grades(self, result: dict) -> float | None:
        """Write the grades and nbgrader's late penalty in one transaction; the penalty."""
        gb, name, student = self.gradebook, self.assignment.name, result["student"]
        points = {q["id"]: q["points"] for q in result.get("questions", [])}
        with warnings.catch_warnings():  # nbgrader's own autoflush warnings, harmless here
            warnings.simplefilter("ignore", SAWarning)
            return self._write_grades_in_session(gb, name, student, result, points)

    def _write_grades_in_session(self, gb, name, student, result, points) -> float | None:
        try:
            gb.update_or_create_student(student)
            received = result.get("received_at")
            submission = gb.update_or_create_submission(name, student,
                                                        timestamp=_utc(received) if received else None)
            for cell in gb.find_notebook(name, name).grade_cells:
                grade = gb.find_grade(cell.name, name, name, student)
                grade.auto_score = points.get(cell.name, 0.0)
            notebook = gb.find_submission_notebook(name, name, student)
            notebook.late_submission_penalty = self._penalty(student, result["score"],
                                                             float(submission.total_seconds_late or 0.0))
            gb.db.commit()
            return notebook.late_submission_penalty
        except Exception:
            gb.db.rollback()
            raise

    def _penalty(self, student: str, score: float, seconds_late: float) -> float | None:
        """nbgrader's late penalty (as its AssignLatePenalties sets it): None when on time or
        the plugin gives none, else the plugin's value kept between 0 and the score."""
        if seconds_late <= 0:
            return None
        penalty = self.late_plugin.late_submission_penalty(student, score, seconds_late)
        return None if penalty is None else min(max(float(penalty), 0.0), score)

    def seconds_late(self, student: str) -> float:
        """How late nbgrader considers the submission (0 when on time or no due date)."""
        def late() -> float:
            try:
                submission = self.gradebook.find_submission(self.assignment.name, student)
            except MissingEntry:
                return 0.0
            return float(submission.total_seconds_late or 0.0)
        return self._patiently(late)
