"""nbgrader's file-system exchange, end to end, with two students.

release_assignment (instructor) -> fetch_assignment, submit (each student, in their own home
folder and, when the tests run as root, as their own user id) -> `autograder collect` ->
`autograder grade` -> `autograder feedback` -> release_feedback -> fetch_feedback (students).
Bob hands in after the due date and then forges every date nbgrader reads (the folder's name,
timestamp.txt, the notebook's modification time): he is still late.
"""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest

from autograder.course import Assignment
from autograder.notebook import ANSWER, cell_role, grade_id, read_notebook

ROOT = Path(__file__).resolve().parents[1]
COURSE_ID = "astrostats"
AS_ROOT = os.geteuid() == 0
STUDENT_UIDS = {"alice": 1_700_001, "bob": 1_700_002}   # ids no account on the machine uses


# nbgrader started by root, then dropped to the student's user id: this machine's Python lives
# under /root, which other users cannot enter, so everything nbgrader needs is imported first.
AS_USER = """
import os, sys, pkgutil, importlib
from nbgrader.apps.nbgraderapp import NbGraderApp
import nbgrader.apps, nbgrader.exchange.default
for package in (nbgrader.apps, nbgrader.exchange.default):
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(package.__name__ + "." + module.name)
import pwd
uid, name = int(sys.argv[1]), sys.argv[2]
if uid >= 0:
    os.setgroups([]); os.setgid(uid); os.setuid(uid)
    known = pwd.getpwuid   # the id has no account here: its name is supplied
    pwd.getpwuid = lambda u: pwd.struct_passwd((name, "x", u, u, "", "", "")) if u == uid else known(u)
sys.argv = sys.argv[3:]
NbGraderApp.launch_instance()
"""


class Exchange:
    """A course folder, an exchange and two student homes, all throw-away."""

    def __init__(self, base: Path):
        self.base = base
        self.course = base / "course"
        self.exchange = base / "exchange"
        for kind in ("solutions", "exercises"):
            shutil.copytree(ROOT / kind / "mixtures", self.course / kind / "mixtures")
        (self.course / "nbgrader_config.py").write_text(
            "c = get_config()\n"
            "c.CourseDirectory.source_directory = 'solutions'\n"
            "c.CourseDirectory.release_directory = 'exercises'\n"
            f"c.CourseDirectory.db_url = 'sqlite:///{self.course}/gradebook.db'\n"
            f"c.CourseDirectory.course_id = '{COURSE_ID}'\n"
            f"c.Exchange.root = '{self.exchange}'\n")
        self.exchange.mkdir(mode=0o755)
        self.homes = {}
        for student, uid in STUDENT_UIDS.items():
            home = base / student
            home.mkdir()
            if AS_ROOT:
                os.chown(home, uid, uid)
            self.homes[student] = home

    def instructor(self, *args):
        return _checked(subprocess.run([sys.executable, "-m", *args], cwd=self.course, capture_output=True,
                                       text=True, timeout=300))

    def student(self, student: str, *nbgrader_args):
        """Run ``nbgrader ARGS`` as the student: their home, name and (as root) user id."""
        home = self.homes[student]
        env = {"PATH": os.environ["PATH"], "HOME": str(home), "USER": student, "LOGNAME": student,
               "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter")}
        argv = ["nbgrader", *nbgrader_args, "--course", COURSE_ID, f"--Exchange.root={self.exchange}"]
        return _checked(subprocess.run([sys.executable, "-c", AS_USER, str(STUDENT_UIDS[student] if AS_ROOT else -1),
                                        student, *argv], cwd=home, env=env, capture_output=True, text=True, timeout=300))

    def as_student(self, student: str, action):
        """Run ``action()`` in a child process with the student's user id (root only)."""
        if not AS_ROOT:
            return action()
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(STUDENT_UIDS[student])
                os.setuid(STUDENT_UIDS[student])
                action()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)


def _checked(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture
def exchange():
    # Not pytest's tmp_path: its folders are private to root, and the students must reach theirs.
    base = Path(tempfile.mkdtemp(prefix="exchange-test-"))
    base.chmod(0o755)
    yield Exchange(base)
    shutil.rmtree(base, ignore_errors=True)


def answered(notebook: Path, answer_ids):
    """The fetched notebook with these answer cells holding the reference solution's code."""
    source = {grade_id(c): c.source for c in read_notebook(ROOT / "solutions/mixtures/mixtures.ipynb").cells
              if cell_role(c) == ANSWER}
    nb = read_notebook(notebook)
    for cell in nb.cells:
        if cell_role(cell) == ANSWER and grade_id(cell) in answer_ids:
            cell.source = source[grade_id(cell)]
    return nbformat.writes(nb)


def gradebook(course: Path):
    from nbgrader.api import Gradebook

    from autograder.course import put_tools_on_path
    put_tools_on_path()   # nbgrader runs alembic from PATH
    return Gradebook(f"sqlite:///{course}/gradebook.db")


def set_due_date(course: Path, when: datetime):
    with gradebook(course) as gb:
        gb.update_or_create_assignment("mixtures", duedate=when.replace(tzinfo=None))


def test_two_students_fetch_submit_and_fetch_their_feedback_and_forged_dates_do_not_count(exchange, monkeypatch):
    exchange.instructor("nbgrader", "release_assignment", "mixtures", "--force")
    for student in STUDENT_UIDS:
        exchange.student(student, "fetch_assignment", "mixtures")
    every_answer = [grade_id(c) for c in read_notebook(exchange.course / "solutions/mixtures/mixtures.ipynb").cells
                    if cell_role(c) == ANSWER]
    work = {"alice": answered(exchange.homes["alice"] / "mixtures/mixtures.ipynb", every_answer),
            "bob": answered(exchange.homes["bob"] / "mixtures/mixtures.ipynb", ["q1-answer"])}
    for student, text in work.items():
        exchange.as_student(student, lambda: (exchange.homes[student] / "mixtures/mixtures.ipynb").write_text(text))

    exchange.student("alice", "submit", "mixtures")
    time.sleep(0.05)
    due = datetime.now(timezone.utc)
    set_due_date(exchange.course, due)
    time.sleep(0.05)
    exchange.student("bob", "submit", "mixtures")

    # Bob rewrites every date nbgrader reads to an hour before the due date.
    inbound = exchange.exchange / COURSE_ID / "inbound"
    (bobs,) = [p for p in inbound.iterdir() if p.name.startswith("bob+")]
    early = due - timedelta(hours=1)

    def forge():
        stamp = early.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        (bobs / "timestamp.txt").write_text(stamp)
        os.utime(bobs / "mixtures.ipynb", (early.timestamp(), early.timestamp()))
        bobs.rename(inbound / f"bob+mixtures+{stamp}+forged")
    exchange.as_student("bob", forge)
    forged = inbound / f"bob+mixtures+{early.strftime('%Y-%m-%d %H:%M:%S.%f UTC')}+forged"
    assert forged.is_dir() and (forged / "mixtures.ipynb").stat().st_mtime == pytest.approx(early.timestamp())

    # The instructor collects (in this process: the students' user ids have no account names,
    # so the owner check is given them here), then grades and writes feedback with the CLI.
    from autograder import collect as collect_module
    if AS_ROOT:
        names = {uid: name for name, uid in STUDENT_UIDS.items()}
        real = pwd.getpwuid
        monkeypatch.setattr(collect_module.pwd, "getpwuid",
                            lambda uid: pwd.struct_passwd((names[uid], "x", uid, uid, "", "", "")) if uid in names
                            else real(uid))
    collected, problems = collect_module.collect(Assignment("mixtures", exchange.course), exchange.exchange, COURSE_ID)
    assert (collected, problems) == (["alice", "bob"], [])

    exchange.instructor("autograder", "grade", "mixtures", "--course", str(exchange.course))
    exchange.instructor("autograder", "feedback", "mixtures", "--course", str(exchange.course))
    with gradebook(exchange.course) as gb:
        alice, bob = (gb.find_submission("mixtures", s) for s in ("alice", "bob"))
        total = alice.max_score
        assert alice.score == total and alice.total_seconds_late == 0
        assert bob.score == 1 and 0 < bob.total_seconds_late < 120    # late by the seconds he really was

    exchange.instructor("nbgrader", "release_feedback", "mixtures")
    for student, shown_score in (("alice", f"{total:g} / {total:g}"), ("bob", f"1 / {total:g}")):
        exchange.student(student, "fetch_feedback", "mixtures")
        (page,) = (exchange.homes[student] / "mixtures" / "feedback").glob("*/mixtures.html")
        text = page.read_text()
        assert f"mixtures: {student}" in text and shown_score in text
        other = "bob" if student == "alice" else "alice"
        assert f"mixtures: {other}" not in text


# --- what `collect` refuses, without nbgrader (hand-ins laid out as `nbgrader submit` does) ---

SECRET = "ab" * 64


def hand_in(inbound: Path, name: str, notebook: bytes = b'{"cells": []}', secret: str = SECRET) -> Path:
    folder = inbound / name
    folder.mkdir(parents=True)
    (folder / "mixtures.ipynb").write_bytes(notebook)
    (folder / "timestamp.txt").write_text("2020-01-01 00:00:00.000000 UTC")
    (folder / "submission_secret.txt").write_text(secret)
    return folder


@pytest.fixture
def inbound(tmp_path):
    path = tmp_path / "exchange" / COURSE_ID / "inbound"
    path.mkdir(parents=True)
    return path


def collect_into(tmp_path):
    from autograder.collect import collect
    return collect(Assignment("mixtures", tmp_path / "course"), tmp_path / "exchange", COURSE_ID)


def test_the_newest_hand_in_wins_by_the_exchange_clock_not_by_the_name_students_write(tmp_path, inbound):
    hand_in(inbound, "carol+mixtures+2030-01-01 00:00:00.000000 UTC", b'{"first": 1}')
    time.sleep(0.01)
    hand_in(inbound, "carol+mixtures+2001-01-01 00:00:00.000000 UTC", b'{"second": 2}')
    collected, problems = collect_into(tmp_path)
    submitted = tmp_path / "course/submitted/carol/mixtures"
    assert collected == ["carol"] and (submitted / "mixtures.ipynb").read_bytes() == b'{"second": 2}'
    assert problems[0].startswith("carol: kept 'carol+mixtures+2001-01-01 00:00:00.000000 UTC/mixtures.ipynb', "
                                  "the newest by its change time in the exchange")
    assert (submitted / "mixtures.ipynb").stat().st_mtime == pytest.approx(time.time(), abs=30)
    assert (submitted / "timestamp.txt").read_text().startswith(str(datetime.now(timezone.utc).year))
    assert (submitted / "submission_secret.txt").read_text() == SECRET


@pytest.mark.skipif(not AS_ROOT, reason="giving a folder to another user needs root")
def test_a_hand_in_owned_by_another_user_is_refused(tmp_path, inbound):
    folder = hand_in(inbound, "alice+mixtures+2026-12-01 10:00:00.000000 UTC+x")
    os.chown(folder, 1_700_099, 1_700_099)
    collected, problems = collect_into(tmp_path)
    assert collected == []
    assert problems == ["alice: 'alice+mixtures+2026-12-01 10:00:00.000000 UTC+x' was skipped: it belongs to "
                        "user id 1700099, not to alice"]
    assert not (tmp_path / "course/submitted/alice").exists()


def test_links_special_files_bad_names_and_bad_secrets_cost_only_their_own_hand_in(tmp_path, inbound):
    outside = tmp_path / "solutions.ipynb"
    outside.write_text("secret answers")
    (hand_in(inbound, "dan+mixtures+t") / "mixtures.ipynb").unlink()
    (inbound / "dan+mixtures+t" / "mixtures.ipynb").symlink_to(outside)
    (inbound / "erin+mixtures+t").symlink_to(tmp_path)
    hand_in(inbound, ".hidden+mixtures+t")
    hand_in(inbound, "fay\x1b[2J+mixtures+t")
    hand_in(inbound, "gus+mixtures+t", secret="../../etc/passwd")
    hand_in(inbound, "hal+other+t")                                  # another assignment: not looked at
    collected, problems = collect_into(tmp_path)
    assert collected == ["gus"]
    assert sorted(problems) == sorted([
        "'.hidden+mixtures+t': '.hidden' cannot be used as a student id, so it was skipped",
        "'fay\\x1b[2J+mixtures+t': 'fay\\x1b[2J' cannot be used as a student id, so it was skipped",
        "dan: is not a regular file, so 'dan+mixtures+t/mixtures.ipynb' was skipped",
        "erin: 'erin+mixtures+t' is not a folder, so it was skipped",
        "gus: the hand-in has no valid submission_secret.txt, so `nbgrader release_feedback` cannot return "
        "feedback through the exchange; send the feedback page directly"])
    assert not (tmp_path / "course/submitted/gus/mixtures/submission_secret.txt").exists()
    assert sorted(p.name for p in (tmp_path / "course/submitted").iterdir()) == ["gus"]


def test_a_missing_exchange_is_one_line_saying_which_options_to_give(tmp_path):
    from autograder.errors import AutograderError
    with pytest.raises(AutograderError, match=r"inbound does not exist: give the exchange folder \(--exchange"):
        collect_into(tmp_path)


def test_the_collect_command_prints_each_problem_and_what_it_collected(tmp_path, inbound):
    shutil.copytree(ROOT / "solutions" / "mixtures", tmp_path / "course" / "solutions" / "mixtures")
    hand_in(inbound, "ivy+mixtures+t")
    hand_in(inbound, "jon+mixtures+t", secret="")
    run = subprocess.run([sys.executable, "-m", "autograder", "collect", "mixtures", "--course", str(tmp_path / "course"),
                          "--exchange", str(tmp_path / "exchange"), "--course-id", COURSE_ID],
                         capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.splitlines() == [
        "  jon: the hand-in has no valid submission_secret.txt, so `nbgrader release_feedback` cannot return "
        "feedback through the exchange; send the feedback page directly",
        f"mixtures: collected 2 hand-ins from the exchange into {tmp_path / 'course' / 'submitted'}/ (ivy, jon)"]
    missing = subprocess.run([sys.executable, "-m", "autograder", "collect", "mixtures", "--course", str(tmp_path / "course"),
                              "--exchange", str(tmp_path / "nowhere"), "--course-id", COURSE_ID],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and missing.stdout == "" and len(missing.stderr.splitlines()) == 1
