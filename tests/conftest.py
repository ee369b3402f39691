"""Shared fixtures: the repository root, a built book and its glued values, reference runs."""
import ast
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--no-proxy-server"]


def pytest_collection_modifyitems(config, items):
    """Start the book build first and run the other tests that need the built book last: under
    pytest-xdist one worker builds the book while the others run everything else, instead of
    every worker waiting for the build at the start."""
    needs_book = [item for item in items if "built_book" in getattr(item, "fixturenames", ())]
    if needs_book:
        first, later = needs_book[0], {id(item) for item in needs_book[1:]}
        items[:] = [first] + [i for i in items if i is not first and id(i) not in later] + needs_book[1:]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book once per test session with `make book` (warnings are errors).

    BOOK_BUILD_ROOT chooses where ``_build/`` goes (default: the repository, so the
    execution cache is shared with `make book`), and BOOK_TOC an alternative table of
    contents (default: _toc.yml). Returns the ``_build`` folder.
    """
    build_root = Path(os.environ.get("BOOK_BUILD_ROOT", ROOT)).resolve()
    toc = Path(os.environ.get("BOOK_TOC", ROOT / "_toc.yml")).resolve()
    build = build_root / "_build"
    build.mkdir(parents=True, exist_ok=True)
    # Under pytest-xdist every worker runs this fixture: the first builds, the others wait
    # on the lock and reuse that build (the stamp names the test run that made it).
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    stamp = build / ".built-by-test-run"
    with open(build / ".book-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if run_id and stamp.is_file() and stamp.read_text() == run_id:
            return build
        stamp.unlink(missing_ok=True)
        result = subprocess.run(
            ["make", "--no-print-directory", "book", f"BUILD_ROOT={build_root}", f"TOC={toc}",
             f"PYTHON={sys.executable}"],
            cwd=ROOT, capture_output=True, text=True,
        )
        if result.returncode != 0:
            pytest.fail("the book failed to build:\n" + result.stdout[-6000:] + result.stderr[-4000:])
        if run_id:
            stamp.write_text(run_id)
    return build


@pytest.fixture(scope="session")
def reference():
    """reference(name) -> (source notebook, oracle), each reference solution run once."""
    from autograder.course import Assignment
    from autograder.grade import reference_oracle
    from autograder.notebook import read_notebook

    cache = {}

    def get(name: str):
        if name not in cache:
            source = read_notebook(Assignment(name).source)
            cache[name] = source, reference_oracle(source)
        return cache[name]
    return get


@pytest.fixture(scope="session")
def source(reference):
    """The mixtures exercise's source notebook (the grader's tests use it as their subject)."""
    return reference("mixtures")[0]


@pytest.fixture(scope="session")
def oracle(reference):
    """What the mixtures reference solution recorded."""
    return reference("mixtures")[1]


@pytest.fixture(scope="session")
def answer(source):
    """answer(id) -> the mixtures reference solution's code of that cell."""
    from autograder.notebook import grade_id
    cells = {grade_id(c): c.source for c in source.cells}
    return cells.__getitem__


@pytest.fixture
def solved(source):
    """A fresh copy of the mixtures release with every answer cell holding the reference
    solution's code (tests may change it)."""
    from autograder.course import Assignment
    from autograder.notebook import ANSWER, cell_role, grade_id, read_notebook

    answers = {grade_id(c): c.source for c in source.cells if cell_role(c) == ANSWER}
    nb = read_notebook(Assignment("mixtures").release)
    for cell in nb.cells:
        if cell_role(cell) == ANSWER:
            cell.source = answers[grade_id(cell)]
    return nb


@pytest.fixture(scope="session")
def with_answer():
    """with_answer(nb, answer_id, code) -> a copy of nb with that answer cell's code replaced."""
    import copy

    from autograder.notebook import grade_id

    def replace(nb, answer_id: str, code: str):
        changed = copy.deepcopy(nb)
        (cell,) = [c for c in changed.cells if grade_id(c) == answer_id]
        cell.source = code
        return changed
    return replace


@pytest.fixture(scope="session")
def grade_with_answers(reference, with_answer):
    """grade_with_answers(assignment, {answer_id: code}) -> the grader's results for the
    reference solution with those answer cells replaced (other correct methods, for instance)."""
    from autograder.grade import grade_notebook

    def grade(name: str, answers: dict):
        source, oracle = reference(name)
        submission = source
        for answer_id, code in answers.items():
            submission = with_answer(submission, answer_id, code)
        return grade_notebook(source, submission, oracle)
    return grade


def _parse(text):
    if isinstance(text, list):
        text = "".join(text)
    return ast.literal_eval(text.strip())


def read_glued_values(jupyter_execute: Path, name: str) -> dict:
    """All values glued by an executed chapter, as Python numbers.

    myst-nb writes glue outputs as ``display_data`` outputs whose metadata holds
    ``scrapbook: {name: ...}`` and whose data key is
    ``application/papermill.record/text/plain``. myst-nb 1.x moves them out of
    ``jupyter_execute/<chapter>.ipynb`` into ``jupyter_execute/<chapter>.glue.json``
    (keyed by name, data key ``text/plain``), so both places are read.
    """
    values = {}
    notebook = jupyter_execute / f"{name}.ipynb"
    if notebook.is_file():
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                record = output.get("metadata", {}).get("scrapbook")
                if output.get("output_type") != "display_data" or not record:
                    continue
                data = output.get("data", {})
                text = data.get("application/papermill.record/text/plain", data.get("text/plain"))
                if text is not None:
                    values[record["name"]] = _parse(text)
    glue_file = jupyter_execute / f"{name}.glue.json"
    if glue_file.is_file():
        for key, output in json.loads(glue_file.read_text(encoding="utf-8")).items():
            data = output.get("data", {})
            text = data.get("text/plain", data.get("application/papermill.record/text/plain"))
            if text is not None:
                values[key] = _parse(text)
    return values


class GluedValues(dict):
    """A chapter's glued values; a missing name fails the test, listing the names there are."""

    def __missing__(self, name):
        pytest.fail(f"{name!r} is not glued by the chapter (found: {sorted(self)})")


@pytest.fixture(scope="session")
def glued_values(built_book: Path):
    """glued_values(chapter) -> {name: value} of everything the executed chapter glued."""
    def get(chapter: str) -> GluedValues:
        jupyter_execute = built_book / "jupyter_execute"
        assert (jupyter_execute / f"{chapter}.ipynb").is_file(), f"the chapter {chapter} was not executed"
        values = read_glued_values(jupyter_execute, chapter)
        assert values, f"no glued values of {chapter} found in {jupyter_execute}"
        return GluedValues(values)
    return get


@pytest.fixture(scope="module")
def glued(request, glued_values) -> GluedValues:
    """The values glued by the chapter that the test module names in ``CHAPTER``."""
    return glued_values(request.module.CHAPTER)


@pytest.fixture(scope="module")
def ref(request) -> dict:
    """The setup and answer cells of the reference solution of the test module's
    ``ASSIGNMENT``, run in this (trusted) process: a namespace of its functions and data."""
    from autograder.assemble import notebook_cells
    from autograder.course import Assignment
    from autograder.notebook import ANSWER, LOCKED, read_notebook

    namespace = {}
    for cell in notebook_cells(read_notebook(Assignment(request.module.ASSIGNMENT).source)):
        if cell.role in (ANSWER, LOCKED):
            exec(compile(cell.source, cell.id, "exec"), namespace)
    return namespace


class Course:
    """A throw-away nbgrader course folder holding the mixtures exercise."""

    def __init__(self, root: Path):
        import shutil

        from autograder.course import Assignment
        self.root = root
        shutil.copytree(ROOT / "solutions" / "mixtures", root / "solutions" / "mixtures")
        self.assignment = Assignment("mixtures", root)

    def submit(self, student: str, notebook, name: str = "mixtures.ipynb") -> Path:
        """Hand in a notebook (a NotebookNode, or raw str/bytes) as nbgrader's collect would."""
        import nbformat
        folder = self.root / "submitted" / student / "mixtures"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        data = nbformat.writes(notebook) if hasattr(notebook, "cells") else notebook
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def gradebook(self):
        """nbgrader's Gradebook of this course (use it in a ``with`` block)."""
        from nbgrader.api import Gradebook

        from autograder.course import put_tools_on_path
        put_tools_on_path()
        return Gradebook(self.assignment.gradebook_url)

    def grade(self, **options):
        from autograder.batch import grade_assignment
        return grade_assignment(self.assignment, progress=False, **options)

    def cli(self, *args, timeout=600):
        """Run `python -m autograder ARGS --course ROOT` as a separate process."""
        return subprocess.run([sys.executable, "-m", "autograder", *args, "--course", str(self.root)],
                              capture_output=True, text=True, timeout=timeout, cwd=self.root)


@pytest.fixture
def course(tmp_path) -> Course:
    return Course(tmp_path / "course")


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium under Playwright, one per test process: Playwright's sync API cannot
    run twice in one process, so the book's and the service's browser tests share it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` to install Debian's chromium "
                    "(never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
