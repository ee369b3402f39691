"""Make exercises/ from solutions/ with nbgrader's ``generate_assignment``.

nbgrader removes solutions and hidden tests, locks cells and records checksums. The
result is then normalised (outputs cleared, nbformat's canonical JSON) and written only
when it differs, so releasing twice changes nothing.
"""
import logging
import tempfile
from pathlib import Path

import nbformat
from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from .course import SOURCE_DIR, Assignment, put_tools_on_path
from .errors import AutograderError
from .notebook import read_notebook


def generate_release(assignment: Assignment) -> str:
    """The released notebook's text, as nbgrader generates it, normalised."""
    read_notebook(assignment.source)  # a clear error for a missing or malformed source
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        config = Config()
        config.CourseDirectory.root = str(assignment.root)
        config.CourseDirectory.source_directory = SOURCE_DIR
        config.CourseDirectory.release_directory = str(Path(tmp) / "release")
        config.CourseDirectory.assignment_id = assignment.name
        config.CourseDirectory.db_url = f"sqlite:///{Path(tmp) / 'gradebook.db'}"
        config.GenerateAssignment.force = True
        config.Application.log_level = logging.WARNING
        put_tools_on_path()
        converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
        try:
            converter.start()
        except Exception as err:  # nbgrader reports bad cell metadata with several types
            raise AutograderError(
                f"nbgrader could not release {assignment.source}: {str(err).splitlines()[0]}"
            ) from None
        produced = Path(tmp) / "release" / assignment.name / assignment.source.name
        nb = nbformat.read(produced, as_version=4)
    return normalise(nb)


def normalise(nb) -> str:
    """Canonical text of a notebook: no outputs, no execution counts, trailing newline."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def release(assignment: Assignment) -> bool:
    """Write the release of one assignment; True when the file changed."""
    text = generate_release(assignment)
    target = assignment.release
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return True
