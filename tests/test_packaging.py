"""What a user of the repository relies on beyond the course itself: its licences, a valid
citation file, and a grader that installs on its own (``pip install .``) and grades a course
that is not this repository."""
import csv
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
CFF_SCHEMA = Path(__file__).parent / "data" / "citation-file-format-1.2.0.schema.json"


def test_citation_file_is_valid_cff_1_2():
    """CITATION.cff validates against the Citation File Format 1.2.0 schema (tests/data/README.md)."""
    schema = json.loads(CFF_SCHEMA.read_text())
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(citation)
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_a_citation_without_authors_is_refused():
    """The schema check can fail: the file's own content minus a required key."""
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    del citation["authors"]
    with pytest.raises(jsonschema.ValidationError, match="'authors' is a required property"):
        jsonschema.validate(citation, json.loads(CFF_SCHEMA.read_text()))


def test_licences_are_stated_where_users_look():
    """BSD-3-Clause for code (LICENSE, pyproject), CC BY 4.0 for text and figures
    (LICENSE-content, README, the book's footer)."""
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert "CC BY 4.0" in (ROOT / "LICENSE-content").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "BSD-3-Clause"
    assert set(project["license-files"]) == {"LICENSE", "LICENSE-content"}
    readme = (ROOT / "README.md").read_text()
    assert "[LICENSE](LICENSE)" in readme and "[LICENSE-content](LICENSE-content)" in readme
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "creativecommons.org/licenses/by/4.0" in config["html"]["extra_footer"]


@pytest.mark.book
def test_every_page_of_the_book_shows_the_content_licence(built_book):
    pages = [p for p in sorted((built_book / "html").glob("*.html"))
             if 'http-equiv="Refresh"' not in p.read_text()]  # index.html only redirects
    assert len(pages) > 5
    missing = [p.name for p in pages if "creativecommons.org/licenses/by/4.0" not in p.read_text()]
    assert not missing, f"pages without the CC BY 4.0 footer: {missing}"


def test_the_contributing_guide_names_only_commands_that_exist():
    """Every `make TARGET` and `python -m autograder COMMAND` in CONTRIBUTING.md is real."""
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    targets = set(re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), re.M))
    named_targets = set(re.findall(r"\bmake ([a-z]+)", guide))
    assert named_targets and named_targets <= targets, named_targets - targets
    from autograder.cli import parser
    commands = set(next(a for a in parser()._actions if a.dest == "command").choices)
    named_commands = set(re.findall(r"-m autograder ([a-z]+)", guide))
    assert named_commands and named_commands <= commands, named_commands - commands
    for path in re.findall(r"`((?:book|tests|autograder|astrostats)/[A-Za-z_.-]+\.(?:py|md))`", guide):
        assert (ROOT / path).exists() or "<slug>" in path, f"CONTRIBUTING.md names {path}, which is missing"


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_declared_dependencies_hold_in_the_pinned_environment():
    """Every runtime dependency of the grader (and of its extras) is satisfied by
    constraints.txt, the environment the course is tested in."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [d for extra in project["optional-dependencies"].values()
                                          for d in extra]
    pins = _pins()
    for text in declared:
        requirement = Requirement(text)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{requirement.name} is declared in pyproject.toml but not pinned"
        assert requirement.specifier.contains(pins[name]), f"{text} excludes the pinned {pins[name]}"


def _cell(kind: str, source: str, grade_id: str, **role):
    cell = new_code_cell(source) if kind == "code" else new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "solution": False,
                                 "grade": False, "locked": False, **role}
    return cell


def _squares_notebook(body: str):
    """A one-question nbgrader notebook: write square(x); checked visibly and by a probe."""
    nb = new_notebook(cells=[
        _cell("markdown", "# Squares\nWrite `square(x)`.", "intro", locked=True),
        _cell("code", "import numpy as np", "setup", locked=True),
        _cell("code", f"def square(x):\n{body}", "q1-answer", solution=True),
        _cell("code", "assert square(3) == 9\n### BEGIN HIDDEN TESTS\nprobe(\"array\", square(np.arange(5.0)))\n"
                      "### END HIDDEN TESTS", "q1", grade=True, locked=True, points=2),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory) -> Path:
    """The Python of a fresh virtual environment with only the course's wheel installed
    (its declared dependencies resolved by pip, at the course's pinned versions)."""
    where = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(where)], check=True, capture_output=True)
    wheel, = where.glob("astrostats_course-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True)
    python = where / "venv" / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel), "-c", str(ROOT / "constraints.txt")],
                   check=True, capture_output=True)
    return python


def test_the_installed_wheel_grades_a_course_that_is_not_this_repository(installed_python, tmp_path):
    course = tmp_path / "course"
    answers = {"solutions/squares": "    ### BEGIN SOLUTION\n    return np.asarray(x) ** 2\n    ### END SOLUTION",
               "submitted/alice/squares": "    return np.asarray(x) ** 2",
               "submitted/bob/squares": "    return np.asarray(x) ** 2 if np.ndim(x) == 0 else x"}
    for folder, body in answers.items():
        (course / folder).mkdir(parents=True)
        nbformat.write(_squares_notebook(body), course / folder / "squares.ipynb")

    def autograder(*args):
        return subprocess.run([installed_python, "-m", "autograder", *args, "squares", "--course", str(course)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    graded = autograder("grade")
    assert graded.returncode == 0, graded.stderr
    assert graded.stdout.splitlines()[0] == "squares: 2 students — 2 graded (2 graded now, 0 unchanged)"
    assert autograder("report").returncode == 0
    with open(course / "reports" / "squares" / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["student"], r["status"], r["score"], r["q1"], r["isolated"]) for r in rows] == [
        ("alice", "graded", "2.0", "2.0", "True"), ("bob", "graded", "0.0", "0.0", "True")]
    site = subprocess.run([installed_python, "-c", "import autograder; print(autograder.__file__)"],
                          cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "site-packages" in site and str(ROOT) not in site
