"""What an instructor sees when grading a class: why points were lost, lateness, regrading a
few students, an empty class, the sandbox warning, and the files git ignores.

One class is graded once in the sandbox (``graded_class``); its tests read that run's output.
"""
import csv
import io
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from conftest import ROOT, Course

from autograder import batch
from autograder.sandbox import find_sandbox

TIMEOUT = 20   # seconds: the reference solution needs a few on a busy machine
LOOP = "while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass"
OUT_OF_TIME = f"the notebook ran out of time (limit {TIMEOUT} s) while running cell 'q4-answer'"
NO_FUNCTION = "`_v = log_gaussian(0.0, 0.0, 1.0)` raised NameError"   # q1's visible check, its answer gone


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, source, with_answer):
    """alice on time, bob stuck in q4, carol 2.5 h late without q1's function: graded once by the CLI."""
    course = Course(tmp_path_factory.mktemp("instructor") / "course")
    due = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    with course.gradebook() as gb:
        gb.update_or_create_assignment("mixtures", duedate=due.replace(tzinfo=None))
    stamps = {"alice": due - timedelta(hours=1), "bob": due,
              "carol": due + timedelta(hours=2, minutes=30)}
    course.submit("alice", source)
    course.submit("bob", with_answer(source, "q4-answer", LOOP))
    course.submit("carol", with_answer(source, "q1-answer", "pass"))
    for student, when in stamps.items():
        path = course.root / "submitted" / student / "mixtures" / "mixtures.ipynb"
        os.utime(path, (when.timestamp(),) * 2)
    grade = course.cli("grade", "mixtures", "--timeout", str(TIMEOUT))
    return course, grade


def progress_lines(stderr: str) -> tuple[list[int], set]:
    """(the counters, {(student, result)}) of `grade`'s one-line-per-submission log."""
    found = [re.fullmatch(r"autograder: graded (\d+)/(\d+): (\S+) \((.+)\)", line) for line in stderr.splitlines()]
    assert all(found), stderr
    return [int(m[1]) for m in found], {(m[3], m[4]) for m in found}


def test_the_table_and_the_csv_say_why_points_were_lost_and_how_late(graded_class):
    course, grade = graded_class
    assert grade.returncode == 0
    # Not a terminal (a log, CI): one line per finished submission, on stderr.
    assert progress_lines(grade.stderr) == ([1, 2, 3], {("alice", "11/11"), ("bob", "5/11"), ("carol", "10/11")})
    assert grade.stdout.splitlines() == [
        "mixtures: 3 students — 3 graded (3 graded now, 0 unchanged)",
        "student  status  late   q1  q2  q3  q4  q5  q6  q7  total",
        "alice    graded         1✓  2✓  2✓  2✓  2✓  1✓  1✓  11/11",
        "bob      graded         1✓  2✓  2✓  0·  0·  0·  0·  5/11",
        "carol    graded  2.5 h  0✗  2✓  2✓  2✓  2✓  1✓  1✓  10/11",
        "reasons:",
        f"  bob: q4, q5, q6, q7: {OUT_OF_TIME}",
        f"  carol: q1: {NO_FUNCTION}",
    ]
    report = course.cli("report", "mixtures")
    assert report.returncode == 0, report.stderr
    with open(course.root / "reports/mixtures/scores.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["student"], r["seconds_late"], r["notes"], r["reason"]) for r in rows] == [
        ("alice", "0", "", ""), ("bob", "0", f"q4, q5, q6, q7: {OUT_OF_TIME}", ""),
        ("carol", "9000", f"q1: {NO_FUNCTION}", "")]


def test_only_the_named_students_are_regraded(graded_class):
    course, _ = graded_class
    unknown = course.cli("grade", "mixtures", "--student", "alice", "zed", "yves")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == ("autograder: error: mixtures has no student named yves, zed: check the spelling "
                              f"(students are on the roster or under {course.root / 'submitted'}/)\n")
    again = course.cli("grade", "mixtures", "--student", "alice")
    assert (again.returncode, again.stderr) == (0, "autograder: graded 1/1: alice (11/11)\n")
    assert again.stdout.splitlines() == [
        "mixtures: 1 students — 1 graded (1 graded now, 0 unchanged)",
        "student  status  late  q1  q2  q3  q4  q5  q6  q7  total",
        "alice    graded        1✓  2✓  2✓  2✓  2✓  1✓  1✓  11/11",
    ]


def test_a_class_with_only_a_roster_is_one_line(course):
    with course.gradebook() as gb:
        for student in ("ann", "ben", "cai"):
            gb.update_or_create_student(student)
    result = course.cli("grade", "mixtures")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == ("mixtures: no submissions yet; 3 students on the roster are missing "
                             f"(submissions go in {course.root / 'submitted'}/<student>/mixtures/)\n")


class Terminal(io.StringIO):
    """What a terminal shows on stderr, as text."""

    def isatty(self):
        return True


def test_the_progress_bar_leaves_its_final_line_on_a_terminal(course, source, monkeypatch):
    course.submit("alice", source)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    summary = batch.grade_assignment(course.assignment, progress=True)
    assert [r["score"] for r in summary.results] == [11.0]
    shown = terminal.getvalue()
    assert shown.endswith("\n")                              # left on screen, not erased
    assert shown.rsplit("\r", 1)[-1].startswith("100%|") and " 1/1 " in shown.rsplit("\r", 1)[-1]


def test_a_bwrap_path_that_is_not_a_program_is_named(tmp_path, monkeypatch):
    find_sandbox.cache_clear()
    try:
        for chosen in ("/nonexistent", str(tmp_path)):       # missing, and a folder (executable bit)
            monkeypatch.setenv("AUTOGRADER_BWRAP", chosen)
            find_sandbox.cache_clear()
            with pytest.warns(RuntimeWarning) as warned:
                sandbox = find_sandbox()
            assert (sandbox.isolated, sandbox.reason) == (False, f"AUTOGRADER_BWRAP={chosen} is not an executable file")
            assert [str(w.message) for w in warned] == [
                f"student code will NOT be isolated (AUTOGRADER_BWRAP={chosen} is not an executable file); "
                "point AUTOGRADER_BWRAP at the bwrap program (or unset it) to sandbox it"]
    finally:
        find_sandbox.cache_clear()


def test_grading_without_the_sandbox_warns_in_one_line_and_names_who(course, source, monkeypatch):
    course.submit("alice", source)
    course.submit("bob", source)
    monkeypatch.setenv("AUTOGRADER_BWRAP", "/nonexistent")
    result = course.cli("grade", "mixtures")
    assert result.returncode == 0, result.stderr
    warning, *progress = result.stderr.splitlines()
    assert warning == ("autograder: warning: student code will NOT be isolated (AUTOGRADER_BWRAP="
                       "/nonexistent is not an executable file); point AUTOGRADER_BWRAP at the bwrap "
                       "program (or unset it) to sandbox it")
    assert progress_lines("\n".join(progress)) == ([1, 2], {("alice", "11/11"), ("bob", "11/11")})
    assert result.stdout.splitlines()[-1] == (
        "note: graded WITHOUT the sandbox (not isolated): alice, bob; once bubblewrap works, regrade them "
        "with `python -m autograder grade mixtures --student alice bob`")


def test_nbgrader_exports_are_not_committed():
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-v", "grades.csv"], cwd=ROOT,
                             capture_output=True, text=True)
    source, path = ignored.stdout.rstrip("\n").split("\t")
    assert (ignored.returncode, source.split(":")[::2], path) == (0, [".gitignore", "/grades.csv"], "grades.csv")
