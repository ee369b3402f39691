"""Finding submissions: nbgrader's ``submitted/<student>/<assignment>/`` layout, and imports
from a folder or a zip of notebooks named by student (as learning-management systems export).

Nothing here follows a symbolic link or trusts a timestamp a student wrote: the time a
submission was received is the modification time of the file where the grader finds it
(or the zip entry's date), and the grader freezes it the first time it sees that content.
"""
import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from .course import SUBMITTED_DIR, Assignment
from .errors import AutograderError
from .notebook import MAX_NOTEBOOK_BYTES

MAX_ZIP_MEMBERS = 10_000


class Unreadable(Exception):
    """A submission that cannot be graded; the message says why, in one line."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path | None          # None: the student handed nothing in
    problem: str = ""          # set when the folder exists but holds no gradable notebook

    def read(self) -> bytes:
        """The notebook's bytes (never through a symbolic link), or raise Unreadable."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as err:
            raise Unreadable("the notebook is a symbolic link, not a file" if err.errno == 40
                             else f"the notebook cannot be read ({err.strerror})") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise Unreadable("the notebook is not a regular file")
            data = f.read(MAX_NOTEBOOK_BYTES + 1)
        if len(data) > MAX_NOTEBOOK_BYTES:
            raise Unreadable(f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
        if not data.strip():
            raise Unreadable("the notebook file is empty")
        return data

    def received_at(self) -> float:
        """When the file arrived where the grader reads it (its own modification time)."""
        return os.lstat(self.path).st_mtime


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _notebook_in(folder: Path, assignment: Assignment) -> Submission:
    student = folder.parent.name
    expected = folder / assignment.notebook_name
    if os.path.lexists(expected):
        return Submission(student, expected)
    others = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if len(others) == 1:
        return Submission(student, others[0])
    found = ", ".join(p.name for p in others) or "none"
    return Submission(student, None, f"no notebook named {assignment.notebook_name} was handed in "
                                     f"(notebooks found: {found})")


def find_submissions(assignment: Assignment, roster: set[str] = frozenset()) -> list[Submission]:
    """One entry per student who handed something in, or who is on the roster, sorted."""
    base = assignment.root / SUBMITTED_DIR
    found = {}
    if base.is_dir():
        for student_dir in base.iterdir():
            folder = student_dir / assignment.name
            if student_dir.is_dir() and not student_dir.is_symlink() and folder.is_dir() \
                    and not folder.is_symlink():
                found[student_dir.name] = _notebook_in(folder, assignment)
    for student in roster - found.keys():
        found[student] = Submission(student, None)
    return [found[s] for s in sorted(found)]


def student_id(name: str) -> str:
    """A student id taken from a file or folder name, or raise Unreadable if it is unsafe."""
    name = name.strip()
    if not name or name in {".", ".."} or name.startswith(".") or len(name) > 100 \
            or any(ch in name for ch in "/\\") or not name.isprintable():
        raise Unreadable(f"{name!r} cannot be used as a student id")
    return name


def _entries_from_folder(folder: Path):
    """(student, bytes, mtime) for <student>.ipynb and <student>/<one>.ipynb in a folder."""
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            yield (path.stem if path.suffix == ".ipynb" else path.name), Unreadable("is a symbolic link"), None
        elif path.is_file() and path.suffix == ".ipynb":
            yield path.stem, Submission(path.stem, path), None
        elif path.is_dir():
            notebooks = [p for p in path.glob("*.ipynb") if not p.name.startswith(".")]
            if len(notebooks) == 1:
                yield path.name, Submission(path.name, notebooks[0]), None
            elif notebooks:
                yield path.name, Unreadable(f"holds {len(notebooks)} notebooks; expected one"), None


def _entries_from_zip(archive: Path):
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise AutograderError(f"{archive} is not a readable zip file ({err})") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise AutograderError(f"{archive} holds more than {MAX_ZIP_MEMBERS} files")
        for member in members:
            path = PurePosixPath(member.filename)
            if path.suffix != ".ipynb" or path.name.startswith("."):
                continue
            name = path.parent.name if len(path.parts) > 1 else path.stem
            if stat.S_ISLNK(member.external_attr >> 16):
                yield name, Unreadable("is a symbolic link"), None
            elif member.file_size > MAX_NOTEBOOK_BYTES:
                yield name, Unreadable(f"is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB"), None
            else:
                with zf.open(member) as f:
                    data = f.read(MAX_NOTEBOOK_BYTES + 1)
                yield name, data[:MAX_NOTEBOOK_BYTES], datetime(*member.date_time).timestamp()


def import_submissions(source: Path, assignment: Assignment) -> tuple[list[str], list[str]]:
    """Copy notebooks named by student from a folder or zip into ``submitted/``.

    Returns (students imported or unchanged, one-line problems). A file whose content is
    already in place is left alone, so its received time does not move.
    """
    source = Path(source)
    if not source.exists():
        raise AutograderError(f"{source} does not exist: give a folder or a .zip of notebooks")
    entries = _entries_from_zip(source) if source.is_file() else _entries_from_folder(source)
    imported, problems = [], []
    for name, content, mtime in entries:
        try:
            student = student_id(name)
            if isinstance(content, Unreadable):
                raise content
            if isinstance(content, Submission):
                content, mtime = content.read(), content.received_at()
        except Unreadable as err:
            problems.append(f"{name}: {err}")
            continue
        if student in imported:
            problems.append(f"{student}: more than one notebook; kept the first")
            continue
        _place(assignment, student, content, mtime)
        imported.append(student)
    return imported, problems


def _place(assignment: Assignment, student: str, data: bytes, mtime: float) -> None:
    folder = assignment.student_dir(SUBMITTED_DIR, student)
    target = folder / assignment.notebook_name
    if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
        return
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{assignment.notebook_name}.partial"
    partial.write_bytes(data)
    os.utime(partial, (mtime, mtime))
    os.replace(partial, target)
