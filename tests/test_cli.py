"""The command line: clear one-line errors with non-zero exits, and the happy paths."""
import subprocess
import sys

import pytest

from autograder.course import ROOT


def autograder(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def assert_one_line_error(result, *words):
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autograder: error:"), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], lines[0]


def test_validate_missing_file(tmp_path):
    assert_one_line_error(autograder("validate", str(tmp_path / "nope.ipynb")), "does not exist")


@pytest.mark.parametrize("content, words", [
    ("{not json", ["invalid JSON", "line 1"]),
    ("", ["invalid JSON"]),
    ('{"cells": 3}', ["no list of cells"]),
    ('{"cells": [{"cell_type": "code"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', ["not a valid notebook"]),
    ("[1, 2]", ["no list of cells"]),
])
def test_validate_malformed_notebook(tmp_path, content, words):
    path = tmp_path / "broken.ipynb"
    path.write_text(content)
    assert_one_line_error(autograder("validate", str(path)), "not a readable notebook", *words)


def test_validate_binary_file(tmp_path):
    path = tmp_path / "binary.ipynb"
    path.write_bytes(b"\xff\xfe\x00\x81")
    assert_one_line_error(autograder("validate", str(path)), "not a readable notebook")


def test_validate_a_folder(tmp_path):
    assert_one_line_error(autograder("validate", str(tmp_path)), "is a folder")


def test_validate_a_notebook_without_graded_cells(tmp_path):
    path = tmp_path / "plain.ipynb"
    path.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert_one_line_error(autograder("validate", str(path)), "no graded cells")


@pytest.mark.parametrize("command", ["check", "release"])
def test_unknown_assignment(command):
    assert_one_line_error(autograder(command, "no-such-chapter"), "unknown assignment", "mixtures")


def test_outside_a_course_checkout(tmp_path):
    from autograder.course import find_assignments
    from autograder.errors import AutograderError
    with pytest.raises(AutograderError, match="no assignments found"):
        find_assignments(None, root=tmp_path)


def test_validate_the_blank_release_reports_every_question_unanswered():
    result = autograder("validate", "exercises/mixtures/mixtures.ipynb")
    assert result.returncode == 1
    assert result.stdout.count("not answered yet") == 7
    assert "0 of 7 questions pass" in result.stdout


def test_validate_the_reference_solution_passes():
    result = autograder("validate", "solutions/mixtures/mixtures.ipynb")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 of 7 questions pass" in result.stdout


def test_validate_warns_about_an_edited_test_cell(tmp_path):
    import nbformat
    nb = nbformat.read(ROOT / "exercises/mixtures/mixtures.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q2"]
    cell.source = "pass"
    path = tmp_path / "mixtures.ipynb"
    nbformat.write(nb, path)
    result = autograder("validate", str(path))
    assert "cell 'q2' was edited" in result.stdout


@pytest.mark.parametrize("command", ["release", "check", "validate"])
def test_every_command_has_help(command):
    result = autograder(command, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout


def test_check_command_passes_on_the_course():
    result = autograder("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mixtures: ok" in result.stdout and "reference 11/11" in result.stdout
