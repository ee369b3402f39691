"""Shared fixtures: the repository root and a built book."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
    result = subprocess.run(
        ["make", "--no-print-directory", "book", f"BUILD_ROOT={build_root}", f"TOC={toc}",
         f"PYTHON={sys.executable}"],
        cwd=ROOT, capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.fail("the book failed to build:\n" + result.stdout[-6000:] + result.stderr[-4000:])
    return build_root / "_build"


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
