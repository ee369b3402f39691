"""``autograder fetch``: copy a released exercise into the student's own folder.

Students work on their copy, outside the course's git checkout, so a ``git pull`` of course
fixes never conflicts with their answers; ``validate`` finds the exercise's release by the
notebook's name and cells, wherever the copy lives. An existing notebook is never replaced.
"""
import shutil
from pathlib import Path

from .course import ROOT, find_assignments
from .errors import AutograderError


def fetch(name: str, folder: Path, root: Path = ROOT) -> Path:
    """Copy ``exercises/<name>/`` to ``folder/<name>/``; the copied notebook's path."""
    assignment = find_assignments([name], root)[0]
    target = folder / name
    notebook = target / assignment.notebook_name
    if notebook.exists():
        raise AutograderError(f"{notebook} already exists and is kept (your work is safe): rename or "
                              "move it first to fetch a fresh copy")
    try:
        shutil.copytree(assignment.release.parent, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    except OSError as err:
        raise AutograderError(f"cannot copy the exercise into {target} ({err.strerror}): choose a folder "
                              "you can write to") from None
    return notebook
