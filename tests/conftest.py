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
    execution cache is shared with `make book`). Returns the ``_build`` folder.
    """
    build_root = Path(os.environ.get("BOOK_BUILD_ROOT", ROOT)).resolve()
    result = subprocess.run(
        ["make", "--no-print-directory", "book", f"BUILD_ROOT={build_root}",
         f"PYTHON={sys.executable}"],
        cwd=ROOT, capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.fail("the book failed to build:\n" + result.stdout[-6000:] + result.stderr[-4000:])
    return build_root / "_build"
