"""Where students trip before grading: unsaved work, a slow answer, the wrong Python, a Windows
path, the help text, and working on a fetched copy outside the repository."""
import os
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.course import ROOT, Assignment
from autograder.notebook import grade_id
from autograder.validate import unsaved_warnings

RELEASE = Assignment("mixtures").release


def cli(*args, cwd=ROOT, python=sys.executable, timeout=300):
    return subprocess.run([python, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def test_a_checkpoint_newer_than_the_file_says_to_save(tmp_path):
    path = tmp_path / "mixtures.ipynb"
    path.write_bytes(RELEASE.read_bytes())
    (tmp_path / ".ipynb_checkpoints").mkdir()
    checkpoint = tmp_path / ".ipynb_checkpoints" / "mixtures-checkpoint.ipynb"
    checkpoint.write_bytes(RELEASE.read_bytes())
    os.utime(path, (1_000_000, 1_000_000))
    os.utime(checkpoint, (1_000_060, 1_000_060))
    assert unsaved_warnings(path, now=2_000_000) == [
        "JupyterLab's checkpoint of this notebook is newer than the file itself: save the notebook "
        "(File ▸ Save, Ctrl/Cmd-S) and validate again"]


def test_a_file_written_a_moment_ago_may_still_be_saving(tmp_path):
    path = tmp_path / "mixtures.ipynb"
    path.write_bytes(RELEASE.read_bytes())
    saved = path.stat().st_mtime
    assert unsaved_warnings(path, now=saved + 1.2) == [
        "the file was written 1 s ago: if JupyterLab is still saving, wait a moment and validate again"]
    assert unsaved_warnings(path, now=saved + 60) == []


def test_a_fetched_copy_warns_of_nothing_and_validates_outside_the_repository(tmp_path, solved):
    fetched = cli("fetch", "mixtures", str(tmp_path / "work"))
    notebook = tmp_path / "work" / "mixtures" / "mixtures.ipynb"
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.splitlines() == [
        f"copied the mixtures exercise to {notebook}",
        f"next: open it in JupyterLab, and check it with `python -m autograder validate {notebook}`"]
    assert unsaved_warnings(notebook, now=time.time()) == []
    # Work on the copy: full answers, and a test cell weakened by the student.
    for cell in solved.cells:
        if grade_id(cell) == "q2":
            cell.source = "pass  # weakened"
    nbformat.write(solved, notebook)
    os.utime(notebook, (time.time() - 60,) * 2)
    result = cli("validate", str(notebook), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "  warning: cell 'q2' was edited; the original from the exercise runs instead, here and when graded" \
        in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "7 of 7 questions pass their visible checks."
    again = cli("fetch", "mixtures", str(tmp_path / "work"))
    assert again.returncode == 2
    assert again.stderr == (f"autograder: error: {notebook} already exists and is kept (your work is safe): "
                            "rename or move it first to fetch a fresh copy\n")


def test_a_slow_answer_shows_progress_and_stops_at_the_stated_limit(tmp_path, solved):
    for cell in solved.cells:
        if grade_id(cell) == "q3-answer":
            cell.source = "while True:\n    pass\n"
    path = tmp_path / "mixtures.ipynb"
    nbformat.write(solved, path)
    os.utime(path, (time.time() - 60,) * 2)
    result = cli("validate", str(path), "--timeout", "8", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0] == (f"Validating {path} (visible checks only; hidden checks run when it is graded). It "
                        "reads the saved file: save in JupyterLab first. Stops after 8 s (--timeout SECONDS).")
    assert lines[1:3] == ["  … q1 checked (1 so far)", "  … q2 checked (2 so far)"]
    q3 = next(line for line in lines if line.startswith("  q3"))
    assert q3 == ("  q3  NOT RUN  2 pt  the notebook ran out of time (limit 8 s) while running "
                  "cell 'q3-answer'")
    assert result.returncode == 1


def test_a_python_without_the_course_packages_says_which_to_use():
    system = "/usr/bin/python3"
    if not os.path.exists(system) or subprocess.run([system, "-c", "import nbgrader"],
                                                    capture_output=True).returncode == 0:
        pytest.skip("needs a system Python without nbgrader")
    result = cli("validate", str(RELEASE), python=system)
    assert result.returncode == 2
    assert result.stderr == (f"autograder: error: this Python ({system}) lacks the course's package "
                             "'IPython': run it with .venv/bin/python (`make env` creates it)\n")


def test_a_windows_path_gets_the_slash_hint():
    result = cli("validate", "exercises\\mixtures\\mixtures.ipynb")
    assert result.returncode == 2
    assert result.stderr == ("autograder: error: no notebook at exercises\\mixtures\\mixtures.ipynb: on this "
                             "system paths use '/', not '\\': try exercises/mixtures/mixtures.ipynb\n")


def test_validate_help_says_what_it_does_with_an_example():
    result = cli("validate", "--help")
    assert "Hidden checks run only when it is graded" in result.stdout
    assert "save in JupyterLab (Ctrl/Cmd-S) first" in result.stdout
    assert "example:\n  python -m autograder validate exercises/mixtures/mixtures.ipynb\n" in result.stdout
    assert "--timeout SECONDS" in result.stdout
