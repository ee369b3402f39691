"""``python -m autograder collect ASSIGNMENT``: hand-ins from nbgrader's file-system exchange.

Students hand in with ``nbgrader submit``, which copies their folder to
``<exchange>/<course id>/inbound/<student>+<assignment>+<timestamp>[+<random>]/``. ``nbgrader
collect`` then dates each hand-in by that timestamp and its ``timestamp.txt``, both written by
the student's own process, so a student can hand in late and claim to be on time. This command
collects the same hand-ins into ``submitted/<student>/<assignment>/`` but dates each by the
**inode change time** (ctime) of the notebook in the exchange: the kernel sets it whenever the
file is created or changed, and no system call lets its owner set it back (``touch`` and
``os.utime`` move only the modification time). A student can make it later, never earlier.

It also refuses a hand-in whose folder belongs to another user than the student it names
(nbgrader only warns), and reads every notebook by the import rules of ``intake``: no symbolic
links, no special files, a size limit, the newest hand-in of each student wins.
"""
import os
import pwd
import re
import stat
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from .course import SECRET_FILE, SUBMITTED_DIR, TIMESTAMP_FILE, Assignment
from .errors import AutograderError
from .files import write_whole
from .intake import (Entry, ImportLimits, Unreadable, _Budget, _choose, _open_file, _OverBudget, _place, _shown,
                     _size, student_id)

SECRET = re.compile(r"[0-9a-f]{32,256}")   # nbgrader's submission_secret.txt: hex digits


def inbound_folder(exchange: Path, course_id: str) -> Path:
    inbound = Path(exchange) / course_id / "inbound"
    if not inbound.is_dir():
        raise AutograderError(f"{inbound} does not exist: give the exchange folder (--exchange, nbgrader's "
                              "Exchange.root) and the course id (--course-id) the students submit to")
    return inbound


def _owner_problem(info: os.stat_result, student: str) -> str:
    """Why a hand-in that names ``student`` cannot be theirs, or "" if it can: it belongs to
    that user, or to the user collecting (an exchange on one account, e.g. an instructor's test)."""
    if info.st_uid == os.geteuid():
        return ""
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = f"user id {info.st_uid}"
    return "" if owner == student else f"it belongs to {owner}, not to {student}"


def _scan(inbound: Path, assignment: Assignment) -> tuple[dict[str, list[Entry]], dict[str, Path], list[str]]:
    """Entries by student, each entry's folder (by path), and problem lines."""
    by_student, folders, problems = {}, {}, []
    for name in sorted(os.listdir(inbound)):
        student, plus, rest = name.partition("+")
        if not plus or not rest.startswith(assignment.name + "+"):
            continue
        folder = inbound / name
        try:
            student = student_id(student)
        except Unreadable as err:
            problems.append(f"{_shown(name)}: {err}, so it was skipped")
            continue
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode):
            problems.append(f"{student}: {_shown(name)} is not a folder, so it was skipped")
            continue
        if owner := _owner_problem(info, student):
            problems.append(f"{student}: {_shown(name)} was skipped: {owner}")
            continue
        notebook = folder / assignment.notebook_name
        parts = (name, assignment.notebook_name)
        try:
            dated = os.lstat(notebook)
        except OSError:
            problems.append(f"{student}: {_shown(name)} holds no {assignment.notebook_name}, so it was skipped")
            continue
        problem = "" if stat.S_ISREG(dated.st_mode) else "is not a regular file"
        entry = Entry(parts, dated.st_ctime, "change time in the exchange",
                      None if problem else partial(_open_file, str(notebook)), problem)
        by_student.setdefault(student, []).append(entry)
        folders[entry.path] = folder
    return by_student, folders, problems


def nbgrader_timestamp(when: float) -> str:
    """``when`` as nbgrader writes timestamp.txt (UTC)."""
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _place_extras(assignment: Assignment, student: str, folder: Path, received: float, problems: list) -> None:
    """The trusted timestamp.txt, and the student's submission secret if it is well formed
    (``nbgrader release_feedback`` names the feedback file by it)."""
    target = assignment.student_dir(SUBMITTED_DIR, student)
    write_whole(target / TIMESTAMP_FILE, nbgrader_timestamp(received).encode())
    try:
        with _open_file(str(folder / SECRET_FILE)) as f:
            secret = f.read(300).decode("ascii", "replace").strip()
    except (Unreadable, OSError):
        secret = ""
    if SECRET.fullmatch(secret):
        write_whole(target / SECRET_FILE, secret.encode())
    else:
        (target / SECRET_FILE).unlink(missing_ok=True)
        problems.append(f"{student}: the hand-in has no valid {SECRET_FILE}, so `nbgrader release_feedback` "
                        "cannot return feedback through the exchange; send the feedback page directly")


def collect(assignment: Assignment, exchange: Path, course_id: str,
            limits: ImportLimits = ImportLimits()) -> tuple[list[str], list[str]]:
    """Copy each student's newest hand-in into ``submitted/``; (students collected, problem lines)."""
    by_student, folders, problems = _scan(inbound_folder(exchange, course_id), assignment)
    budget, collected = _Budget(limits.total_bytes), []
    for student in sorted(by_student):
        try:
            chosen = _choose(student, by_student[student], limits, budget, problems)
        except _OverBudget:
            raise AutograderError(
                f"the hand-ins read more than {_size(limits.total_bytes)} in all and collecting stopped before "
                f"{student} ({len(collected)} collected): collect fewer students at a time") from None
        if chosen:
            entry, data = chosen
            _place(assignment, student, data, entry.received_at)
            _place_extras(assignment, student, folders[entry.path], entry.received_at, problems)
            collected.append(student)
    return collected, problems
