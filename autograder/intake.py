"""Finding submissions: nbgrader's ``submitted/<student>/<assignment>/`` layout, and imports
from a folder or a zip of notebooks named by student (as learning-management systems export).

Nothing here follows a symbolic link or trusts a timestamp a student wrote: the time a
submission was received is the modification time of the file where the grader finds it
(or the zip entry's date), and the grader freezes it the first time it sees that content.

An import (a folder or a zip, read by the same rules) must hold:

- **The student is named by the entry's path**: ``<student>.ipynb`` names the student by the
  file's name; ``<student>/<x>.ipynb`` and ``<student>/<any>/<deeper>/<x>.ipynb`` by the top
  folder. When every notebook lies under one common top folder and the paths below it name at
  least two students, that folder is the export's wrapper (``export-2026-12-01/<student>/...``)
  and is stripped; an export of a single student is never stripped, so its top folder is the
  student. Hidden files and folders (``.ipynb_checkpoints``, ``._x.ipynb``) and ``__MACOSX/``
  are not submissions and are ignored, as is anything that is not an ``.ipynb``.
- **Each entry is judged on its own**: a symbolic link, an encrypted, corrupt (bad CRC-32,
  cut short) or oversized entry, or a name that leaves the export (``..``, an absolute path)
  is skipped with one problem line; every other entry still imports.
- **The newest submission of a student wins**, by the zip entry's date (a folder: the file's
  modification time); equal dates keep the entry whose path sorts last. A problem line says
  which entry was kept, by which clock, and which were not imported.
- **An import reads at most** ``ImportLimits.entries`` files and ``ImportLimits.total_bytes``
  bytes, counted as they are actually read (a zip bomb lies about its declared sizes); beyond
  that it stops with one AutograderError line before placing anything more.
- **Problem lines are one line of trusted text**: entry names appear only escaped (``repr``),
  so a name holding a newline or a terminal escape cannot forge or colour a line.
"""
import errno
import hashlib
import lzma
import os
import re
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO, Callable

from .course import SUBMITTED_DIR, Assignment
from .errors import AutograderError
from .files import write_whole
from .notebook import MAX_NOTEBOOK_BYTES

# Zip dates are the local time of whoever made the zip, with no time zone: up to 14 hours off
# the grader's clock. Only a date further ahead than this is unbelievable.
FUTURE_SLACK_SECONDS = 24 * 3600
_CORRUPT = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError)


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
            raise Unreadable("the notebook is a symbolic link, not a file" if err.errno == errno.ELOOP
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


@dataclass(frozen=True)
class ImportLimits:
    entry_bytes: int = MAX_NOTEBOOK_BYTES     # one notebook
    total_bytes: int = 2 * 2**30              # everything one import reads
    entries: int = 10_000                     # files in the zip or folder


@dataclass(frozen=True)
class Entry:
    """One notebook of an import, before it is read."""
    parts: tuple[str, ...]                    # its path in the export, folder by folder
    received_at: float                        # by ``clock``
    clock: str                                # which clock says when it was received
    open: Callable[[], BinaryIO] | None       # None: skipped unread, because of ``problem``
    problem: str = ""
    clock_note: str = ""                      # why the stated clock is the time of import

    @property
    def path(self) -> str:
        return "/".join(self.parts)


class _OverBudget(Exception):
    """The import read more bytes than ``ImportLimits.total_bytes``."""


class _Budget:
    """The bytes an import may still read."""

    def __init__(self, total: int):
        self.left = total

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _OverBudget


def _shown(path: str) -> str:
    """An entry name as problem lines show it: quoted, control characters escaped."""
    return repr(path)


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 else f"{n} bytes"


def _clock(timestamp: float | None, clock: str, now: float, undated: str) -> tuple[float, str, str]:
    """(received at, by which clock, note) for an entry dated ``timestamp`` by ``clock``
    (None: its date cannot be read, because ``undated``).

    A date that cannot be read, or that lies more than a day ahead, is replaced by the time of
    import rather than skipping the entry: skipping would record the student as missing, and the
    grader's own clock is never earlier than the real receipt, so the fallback can make work look
    later, never earlier. The same clock ranks the entry, so it counts as the newest.
    """
    if timestamp is not None and timestamp <= now + FUTURE_SLACK_SECONDS:
        return timestamp, clock, ""
    why = f"its {clock} ({_when(timestamp)}) is in the future" if timestamp is not None else undated
    return now, "time of import", why


def _path_parts(name: str) -> tuple[str, ...] | None:
    """The folders and file of an entry name, or None when the name leaves the export."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"[A-Za-z]:/", name):
        return None
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    return None if ".." in parts else parts


def _is_notebook(name: str) -> bool:
    file = re.split(r"[/\\]", name)[-1]
    return file.lower().endswith(".ipynb") and not file.startswith(".")


def _is_ignored(parts: tuple[str, ...]) -> bool:
    """Hidden files and folders and macOS's resource forks are not submissions."""
    return parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts)


def _outside(name: str) -> str:
    return f"{_shown(name)}: points outside the export ('..' or an absolute path), so it was skipped"


def _open_zip(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise AutograderError(f"{archive} is not a readable zip file: download the export again, "
                              "or give the folder of notebooks instead") from None


def _open_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo) -> BinaryIO:
    try:
        return zf.open(member)
    except NotImplementedError:
        raise Unreadable("uses a compression method the grader cannot read; "
                         "export it again as a plain zip") from None
    except _CORRUPT:
        raise Unreadable("is corrupt (its header is damaged); download the export again") from None


def _zip_problem(member: zipfile.ZipInfo, limits: ImportLimits) -> str:
    """Why a zip entry is skipped before reading it ("" when it is to be read)."""
    if stat.S_ISLNK(member.external_attr >> 16):
        return "is a symbolic link"
    if member.flag_bits & 0x1:
        return "is encrypted (password-protected); export it without a password"
    if member.file_size > limits.entry_bytes:
        return _too_large(limits)
    return ""


def _too_large(limits: ImportLimits) -> str:
    return f"is larger than {_size(limits.entry_bytes)}; ask the student to clear its outputs"


def _scan_zip(zf: zipfile.ZipFile, archive: Path, limits: ImportLimits, now: float):
    """(entries, problems) of the notebooks in an open zip, nothing read yet."""
    members = [m for m in zf.infolist() if not m.is_dir()]
    if len(members) > limits.entries:
        raise AutograderError(f"{archive} holds {len(members)} files, more than the {limits.entries} "
                              "one import reads: split the export into smaller zips and import each")
    entries, problems = [], []
    for member in members:
        if not _is_notebook(member.filename):
            continue
        parts = _path_parts(member.filename)
        if parts is None:
            problems.append(_outside(member.filename))
            continue
        if _is_ignored(parts):
            continue
        try:
            dated = datetime(*member.date_time).timestamp()
        except ValueError:  # month 0, 31 February, hour 25 ...: the zip says no real date
            dated = None
        received, clock, note = _clock(dated, "zip entry date", now,
                                       f"its zip entry date {member.date_time} is not a real date")
        problem = _zip_problem(member, limits)
        entries.append(Entry(parts, received, clock, None if problem else partial(_open_member, zf, member),
                             problem, note))
    return entries, problems


def _open_file(path: str) -> BinaryIO:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        raise Unreadable("is a symbolic link" if err.errno == errno.ELOOP
                         else f"cannot be read ({err.strerror})") from None
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise Unreadable("is not a regular file")
    return f


def _scan_folder(folder: Path, limits: ImportLimits, now: float):
    """(entries, problems) of the notebooks under a folder, never following a symbolic link."""
    entries, problems, files = [], [], 0
    for top, dirs, names in os.walk(folder):
        here = Path(top).relative_to(folder).parts
        for name in sorted(dirs):
            if os.path.islink(os.path.join(top, name)) and not _is_ignored((*here, name)):
                problems.append(f"{_shown('/'.join((*here, name)))}: is a symbolic link to a folder, "
                                "so it was skipped")
        dirs[:] = sorted(d for d in dirs if not _is_ignored((*here, d))
                         and not os.path.islink(os.path.join(top, d)))
        files += len(names)
        if files > limits.entries:
            raise AutograderError(f"{folder} holds more than {limits.entries} files, the most one "
                                  "import reads: split it into smaller folders and import each")
        for name in sorted(names):
            parts = (*here, name)
            if not _is_notebook(name) or _is_ignored(parts):
                continue
            path = os.path.join(top, name)
            info = os.lstat(path)
            received, clock, note = _clock(info.st_mtime, "file modification time", now, "")
            problem = "is a symbolic link" if stat.S_ISLNK(info.st_mode) else ""
            entries.append(Entry(parts, received, clock, None if problem else partial(_open_file, path),
                                 problem, note))
    return entries, problems


def _wrapper_depth(entries: list[Entry]) -> int:
    """1 when every notebook lies under one top folder whose paths name two students or more
    (the export's wrapper, stripped), else 0."""
    tops = {e.parts[0] for e in entries if len(e.parts) > 1}
    if len(tops) != 1 or any(len(e.parts) == 1 for e in entries):
        return 0
    return 1 if len({_student_name(e.parts[1:]) for e in entries}) > 1 else 0


def _student_name(parts: tuple[str, ...]) -> str:
    """``<student>.ipynb`` names the student by the file, anything deeper by the top folder."""
    return parts[0] if len(parts) > 1 else parts[0][:-len(".ipynb")]


def _read(entry: Entry, limits: ImportLimits, budget: _Budget) -> bytes:
    """The entry's bytes, counting every byte read against ``budget``, or raise Unreadable."""
    chunks, size = [], 0
    with entry.open() as f:
        try:
            while chunk := f.read(min(2**20, limits.entry_bytes + 1 - size)):
                budget.spend(len(chunk))
                size += len(chunk)
                if size > limits.entry_bytes:
                    raise Unreadable(_too_large(limits))
                chunks.append(chunk)
        except _CORRUPT:
            raise Unreadable("is corrupt (it fails its CRC-32 check or is cut short); "
                             "download the export again") from None
    return b"".join(chunks)


def _skipped(student: str, entry: Entry, reason: str) -> str:
    """The line for a skipped entry; what to do, after "; " in ``reason``, comes last."""
    what, _, todo = reason.partition("; ")
    return f"{student}: {what}, so {_shown(entry.path)} was skipped" + (f"; {todo}" if todo else "")


def _kept(student: str, kept: Entry, newer_skipped: bool, older: list[Entry]) -> str:
    """The line saying which of a student's entries was kept, by which clock, over which."""
    newest = "the newest readable entry" if newer_skipped else "the newest"
    line = f"{student}: kept {_shown(kept.path)}, {newest} by its {kept.clock} ({_when(kept.received_at)})"
    if older and older[0].received_at == kept.received_at:
        line += f", tied with {_shown(older[0].path)} and kept as the later path by name"
    return line + ("; not imported: " + ", ".join(f"{_shown(e.path)} ({e.clock} {_when(e.received_at)})"
                                                  for e in older) if older else "")


def _choose(student, entries, limits, budget, problems) -> tuple[Entry, bytes] | None:
    """The newest readable entry of a student and its bytes; lines for the others."""
    ranked = sorted(entries, key=lambda e: (e.received_at, e.path), reverse=True)
    for i, entry in enumerate(ranked):
        if entry.problem:
            problems.append(_skipped(student, entry, entry.problem))
            continue
        try:
            data = _read(entry, limits, budget)
        except Unreadable as err:
            problems.append(_skipped(student, entry, str(err)))
            continue
        if len(ranked) > 1:
            problems.append(_kept(student, entry, i > 0, ranked[i + 1:]))
        if entry.clock_note:
            problems.append(f"{student}: {_shown(entry.path)} is dated by the time of import "
                            f"({_when(entry.received_at)}) because {entry.clock_note}")
        return entry, data
    return None


def import_submissions(source: Path, assignment: Assignment,
                       limits: ImportLimits = ImportLimits()) -> tuple[list[str], list[str]]:
    """Copy notebooks named by student from a folder or zip into ``submitted/``.

    Returns (students imported or unchanged, one-line problems). A file whose content is
    already in place is left alone, so its received time does not move.
    """
    source = Path(source)
    if not source.exists():
        raise AutograderError(f"{source} does not exist: give a folder or a .zip of notebooks")
    now = time.time()
    if not source.is_file():
        return _import(source, *_scan_folder(source, limits, now), assignment, limits)
    with _open_zip(source) as zf:
        return _import(source, *_scan_zip(zf, source, limits, now), assignment, limits)


def _import(source, entries, problems, assignment, limits) -> tuple[list[str], list[str]]:
    """Name, choose, read and place the entries of one import."""
    depth = _wrapper_depth(entries)
    by_student: dict[str, list[Entry]] = {}
    for entry in entries:
        try:
            by_student.setdefault(student_id(_student_name(entry.parts[depth:])), []).append(entry)
        except Unreadable as err:
            problems.append(f"{_shown(entry.path)}: {err}, so it was skipped")
    budget, imported = _Budget(limits.total_bytes), []
    for student in sorted(by_student):
        try:
            chosen = _choose(student, by_student[student], limits, budget, problems)
        except _OverBudget:
            raise AutograderError(
                f"{source}: the import read more than {_size(limits.total_bytes)} in all, the most one "
                f"import reads, and stopped before {student} ({len(imported)} imported): split the "
                "export into smaller parts and import each") from None
        if chosen:
            _place(assignment, student, chosen[1], chosen[0].received_at)
            imported.append(student)
    return imported, problems


def _place(assignment: Assignment, student: str, data: bytes, mtime: float) -> None:
    folder = assignment.student_dir(SUBMITTED_DIR, student)
    target = folder / assignment.notebook_name
    if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
        return
    folder.mkdir(parents=True, exist_ok=True)
    write_whole(target, data, mtime)
