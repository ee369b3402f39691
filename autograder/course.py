"""Where things live: nbgrader's source folder is solutions/, its release folder exercises/.

An assignment is named by its chapter slug: ``solutions/<slug>/<slug>.ipynb`` is the
single source of the exercise and ``exercises/<slug>/<slug>.ipynb`` its release.
"""
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import AutograderError

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = "solutions"
RELEASE_DIR = "exercises"
# nbgrader's folders for grading, under the course root
SUBMITTED_DIR, AUTOGRADED_DIR, FEEDBACK_DIR = "submitted", "autograded", "feedback"
# Beside a hand-in from nbgrader's exchange: when it arrived, and the key its feedback is filed by.
TIMESTAMP_FILE, SECRET_FILE = "timestamp.txt", "submission_secret.txt"
REPORTS_DIR = "reports"
GRADEBOOK = "gradebook.db"


@dataclass(frozen=True)
class Assignment:
    name: str
    root: Path = ROOT

    @property
    def source(self) -> Path:
        return self.root / SOURCE_DIR / self.name / f"{self.name}.ipynb"

    @property
    def release(self) -> Path:
        return self.root / RELEASE_DIR / self.name / f"{self.name}.ipynb"

    @property
    def notebook_name(self) -> str:
        return f"{self.name}.ipynb"

    def student_dir(self, kind: str, student: str) -> Path:
        """``<root>/<kind>/<student>/<assignment>/``, kind being e.g. SUBMITTED_DIR."""
        return self.root / kind / student / self.name

    @property
    def gradebook_url(self) -> str:
        return f"sqlite:///{self.root / GRADEBOOK}"


def assignment_names(root: Path = ROOT) -> list[str]:
    """Every assignment that has a source notebook, sorted."""
    source_dir = root / SOURCE_DIR
    if not source_dir.is_dir():
        return []
    return sorted(p.name for p in source_dir.iterdir() if (p / f"{p.name}.ipynb").is_file())


def find_assignments(names: list[str] | None, root: Path = ROOT) -> list[Assignment]:
    """The named assignments (all of them when ``names`` is empty), or a clear error."""
    known = assignment_names(root)
    if not known:
        raise AutograderError(f"no assignments found under {root / SOURCE_DIR}: is this a course checkout?")
    for name in names or []:
        if name not in known:
            raise AutograderError(
                f"unknown assignment '{name}': known assignments are {', '.join(known)}"
            )
    return [Assignment(name, root) for name in (names or known)]


def put_tools_on_path() -> None:
    """nbgrader creates a gradebook by running the ``alembic`` command installed beside
    Python; make sure it is found even when the venv is not activated."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
