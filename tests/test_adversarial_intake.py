"""LMS imports (`autograder.intake.import_submissions`): one test per way an export goes wrong.

Every test builds a real zip (or folder) of notebooks, imports it into a throw-away course
folder and asserts the exact students imported, problem lines, placed files and their
modification times. The zip damage is real: bytes of the compressed data flipped, sizes
shrunk, the encryption flag set in both headers. The last test grades such an export end
to end in the sandbox.
"""
import os
import struct
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from autograder.course import Assignment
from autograder.errors import AutograderError
from autograder.intake import ImportLimits, import_submissions
from autograder.notebook import questions

DEC1 = (2026, 12, 1, 10, 0, 0)
NOV30 = (2026, 11, 30, 9, 0, 0)
NOV29 = (2026, 11, 29, 8, 0, 0)


def epoch(date_time) -> float:
    """A zip date (the local time of its maker) as the grader reads it."""
    return datetime(*date_time).timestamp()


def shown(date_time) -> str:
    return datetime(*date_time).strftime("%Y-%m-%d %H:%M:%S")


def make_zip(path: Path, entries, compression=zipfile.ZIP_STORED) -> Path:
    """A zip of (name, bytes, date_time) entries, in that order."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, date_time in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time), data, compress_type=compression)
    return path


def make_folder(path: Path, entries) -> Path:
    """A folder of (relative path, bytes, date_time) files, each modified at its date."""
    for name, data, date_time in entries:
        file = path / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        os.utime(file, (epoch(date_time),) * 2)
    return path


def headers(raw: bytes, name: str) -> tuple[int, int]:
    """(offset of the local header, offset of the central-directory record) of an entry."""
    end = raw.rindex(b"PK\x05\x06")                    # end of central directory (no comment)
    central = struct.unpack_from("<I", raw, end + 16)[0]
    while True:
        name_len = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46:central + 46 + name_len] == name.encode():
            return struct.unpack_from("<I", raw, central + 42)[0], central
        extra_len, comment_len = struct.unpack_from("<HH", raw, central + 30)
        central += 46 + name_len + extra_len + comment_len


def data_offset(raw: bytes, local: int) -> int:
    name_len, extra_len = struct.unpack_from("<HH", raw, local + 26)
    return local + 30 + name_len + extra_len


def patch(archive: Path, name: str, change) -> None:
    """Rewrite the zip with ``change(raw, local, central)`` applied to one entry's bytes."""
    raw = bytearray(archive.read_bytes())
    change(raw, *headers(bytes(raw), name))
    archive.write_bytes(bytes(raw))


def flip_data(raw, local, central):
    """Damage the compressed data (the CRC-32 no longer matches)."""
    raw[data_offset(raw, local) + 3] ^= 0xFF


def truncate_data(raw, local, central):
    """Declare half the compressed data, as if the entry was cut short."""
    size = struct.unpack_from("<I", raw, central + 20)[0] // 2
    struct.pack_into("<I", raw, local + 18, size)
    struct.pack_into("<I", raw, central + 20, size)


def set_encrypted(raw, local, central):
    """Set the 'encrypted' flag bit 0x1 in the local and the central header."""
    raw[local + 6] |= 0x1
    raw[central + 8] |= 0x1


def declare_uncompressed(size):
    def change(raw, local, central):
        struct.pack_into("<I", raw, local + 22, size)
        struct.pack_into("<I", raw, central + 24, size)
    return change


@pytest.fixture
def assignment(tmp_path) -> Assignment:
    return Assignment("mixtures", tmp_path / "course")


def placed(assignment) -> dict:
    """{relative path: (bytes, mtime)} of every file the import left in the course folder."""
    if not assignment.root.exists():
        return {}
    return {str(p.relative_to(assignment.root)): (p.read_bytes(), p.stat().st_mtime)
            for p in sorted(assignment.root.rglob("*")) if p.is_file() or p.is_symlink()}


def submitted(student: str) -> str:
    return f"submitted/{student}/mixtures/mixtures.ipynb"


LAYOUTS = [  # (path in the export, content, date): every layout names its student
    ("alice.ipynb", b"A", DEC1),
    ("bob/submission.ipynb", b"B", NOV30),
    ("carol/attempt/files/hw.ipynb", b"C", NOV29),
    ("dan/files/x.ipynb", b"D", DEC1),
    ("dan/.ipynb_checkpoints/x-checkpoint.ipynb", b"checkpoint", NOV29),  # hidden: not a submission
    ("erin/files/x.ipynb", b"E", NOV30),
    ("README.txt", b"not a notebook", DEC1),
]


@pytest.mark.parametrize("kind", ["zip", "folder"])
@pytest.mark.parametrize("wrapper", ["", "export-2026-12-01/"])
def test_students_are_named_by_path_in_every_lms_layout(assignment, tmp_path, kind, wrapper):
    entries = [(wrapper + name, data, date) for name, data, date in LAYOUTS]
    entries.append(("__MACOSX/" + wrapper + "._alice.ipynb", b"resource fork", DEC1))
    source = (make_zip(tmp_path / "export.zip", entries) if kind == "zip"
              else make_folder(tmp_path / "export", entries))
    assert import_submissions(source, assignment) == (["alice", "bob", "carol", "dan", "erin"], [])
    assert placed(assignment) == {
        submitted("alice"): (b"A", epoch(DEC1)), submitted("bob"): (b"B", epoch(NOV30)),
        submitted("carol"): (b"C", epoch(NOV29)), submitted("dan"): (b"D", epoch(DEC1)),
        submitted("erin"): (b"E", epoch(NOV30))}


@pytest.mark.parametrize("name", ["alice/files/hw.ipynb", "alice/hw.ipynb"])
def test_an_export_of_one_student_keeps_its_top_folder_as_the_student(assignment, tmp_path, name):
    archive = make_zip(tmp_path / "one.zip", [(name, b"A", DEC1)])
    assert import_submissions(archive, assignment) == (["alice"], [])
    assert placed(assignment) == {submitted("alice"): (b"A", epoch(DEC1))}


def test_the_newest_entry_of_a_student_wins_by_its_zip_date(assignment, tmp_path):
    archive = make_zip(tmp_path / "export.zip", [
        ("export/alice/v1/hw.ipynb", b"A1", NOV29),
        ("export/alice/v3/hw.ipynb", b"A3", DEC1),     # the newest, neither first nor last
        ("export/alice.ipynb", b"A2", NOV30),
        ("export/carol/b.ipynb", b"C-b", DEC1),        # a tie: the later path wins, not zip order
        ("export/carol/a.ipynb", b"C-a", DEC1),
        ("export/dave.ipynb", b"D", NOV30)])
    imported, problems = import_submissions(archive, assignment)
    assert imported == ["alice", "carol", "dave"]
    assert problems == [
        f"alice: kept 'export/alice/v3/hw.ipynb', the newest by its zip entry date ({shown(DEC1)}); "
        f"not imported: 'export/alice.ipynb' (zip entry date {shown(NOV30)}), "
        f"'export/alice/v1/hw.ipynb' (zip entry date {shown(NOV29)})",
        f"carol: kept 'export/carol/b.ipynb', the newest by its zip entry date ({shown(DEC1)}), "
        "tied with 'export/carol/a.ipynb' and kept as the later path by name; "
        f"not imported: 'export/carol/a.ipynb' (zip entry date {shown(DEC1)})"]
    assert placed(assignment) == {submitted("alice"): (b"A3", epoch(DEC1)),
                                  submitted("carol"): (b"C-b", epoch(DEC1)),
                                  submitted("dave"): (b"D", epoch(NOV30))}


def test_the_newest_file_of_a_student_wins_by_its_modification_time(assignment, tmp_path):
    inbox = make_folder(tmp_path / "inbox", [
        ("alice/late/hw.ipynb", b"A-late", DEC1), ("alice/early.ipynb", b"A-early", NOV29),
        ("alice.ipynb", b"A-mid", NOV30), ("bob.ipynb", b"B", NOV30)])
    imported, problems = import_submissions(inbox, assignment)
    assert imported == ["alice", "bob"]
    assert problems == [
        f"alice: kept 'alice/late/hw.ipynb', the newest by its file modification time ({shown(DEC1)}); "
        f"not imported: 'alice.ipynb' (file modification time {shown(NOV30)}), "
        f"'alice/early.ipynb' (file modification time {shown(NOV29)})"]
    assert placed(assignment) == {submitted("alice"): (b"A-late", epoch(DEC1)),
                                  submitted("bob"): (b"B", epoch(NOV30))}


def test_corrupt_entries_are_skipped_and_the_others_import(assignment, tmp_path):
    notebook = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' * 50
    archive = make_zip(tmp_path / "export.zip", [
        ("alice.ipynb", notebook, DEC1),
        ("bob.ipynb", notebook, DEC1),                  # bad CRC-32
        ("carol.ipynb", notebook, DEC1),                # cut short
        ("dan/new.ipynb", notebook, DEC1),              # the newest is corrupt: the older one stays
        ("dan/old.ipynb", b"D-old", NOV30)], compression=zipfile.ZIP_DEFLATED)
    patch(archive, "bob.ipynb", flip_data)
    patch(archive, "carol.ipynb", truncate_data)
    patch(archive, "dan/new.ipynb", flip_data)
    imported, problems = import_submissions(archive, assignment)
    corrupt = "is corrupt (it fails its CRC-32 check or is cut short)"
    again = "; download the export again"
    assert imported == ["alice", "dan"]
    assert problems == [
        f"bob: {corrupt}, so 'bob.ipynb' was skipped{again}",
        f"carol: {corrupt}, so 'carol.ipynb' was skipped{again}",
        f"dan: {corrupt}, so 'dan/new.ipynb' was skipped{again}",
        f"dan: kept 'dan/old.ipynb', the newest readable entry by its zip entry date ({shown(NOV30)})"]
    assert placed(assignment) == {submitted("alice"): (notebook, epoch(DEC1)),
                                  submitted("dan"): (b"D-old", epoch(NOV30))}


def test_encrypted_entries_are_skipped_and_the_others_import(assignment, tmp_path):
    archive = make_zip(tmp_path / "export.zip", [("alice.ipynb", b"A", DEC1), ("bob.ipynb", b"B", DEC1)])
    patch(archive, "bob.ipynb", set_encrypted)
    assert import_submissions(archive, assignment) == (["alice"], [
        "bob: is encrypted (password-protected), so 'bob.ipynb' was skipped; export it without a password"])
    assert placed(assignment) == {submitted("alice"): (b"A", epoch(DEC1))}


def test_entries_without_a_real_date_count_as_received_at_the_time_of_import(assignment, tmp_path):
    archive = make_zip(tmp_path / "export.zip", [
        ("alice.ipynb", b"A", (2026, 0, 15, 10, 0, 0)),      # month 0
        ("bob.ipynb", b"B", (2026, 2, 31, 10, 0, 0)),        # 31 February
        ("carol.ipynb", b"C", (2026, 12, 1, 25, 61, 0)),     # hour 25, minute 61
        ("dan.ipynb", b"D", (2100, 1, 1, 0, 0, 0)),          # the future
        ("erin/dated.ipynb", b"E-dated", DEC1),
        ("erin/undated.ipynb", b"E-undated", (2026, 0, 0, 0, 0, 0))])
    before = datetime.now().timestamp()
    imported, problems = import_submissions(archive, assignment)
    files = placed(assignment)
    now = files[submitted("alice")][1]
    assert before <= now <= datetime.now().timestamp()
    at = datetime.fromtimestamp(now).strftime("%Y-%m-%d %H:%M:%S")
    assert imported == ["alice", "bob", "carol", "dan", "erin"]
    assert problems == [
        f"alice: 'alice.ipynb' is dated by the time of import ({at}) because its zip entry date "
        "(2026, 0, 15, 10, 0, 0) is not a real date",
        f"bob: 'bob.ipynb' is dated by the time of import ({at}) because its zip entry date "
        "(2026, 2, 31, 10, 0, 0) is not a real date",
        f"carol: 'carol.ipynb' is dated by the time of import ({at}) because its zip entry date "
        "(2026, 12, 1, 25, 61, 0) is not a real date",
        f"dan: 'dan.ipynb' is dated by the time of import ({at}) because its zip entry date "
        "(2100-01-01 00:00:00) is in the future",
        f"erin: kept 'erin/undated.ipynb', the newest by its time of import ({at}); "
        f"not imported: 'erin/dated.ipynb' (zip entry date {shown(DEC1)})",
        f"erin: 'erin/undated.ipynb' is dated by the time of import ({at}) because its zip entry date "
        "(2026, 0, 0, 0, 0, 0) is not a real date"]
    assert files == {submitted(s): (data, now) for s, data in
                     [("alice", b"A"), ("bob", b"B"), ("carol", b"C"), ("dan", b"D"), ("erin", b"E-undated")]}


def test_names_that_leave_the_export_are_skipped(assignment, tmp_path):
    archive = make_zip(tmp_path / "export.zip", [
        ("../escape.ipynb", b"X", DEC1), ("/etc/absolute.ipynb", b"X", DEC1),
        ("..\\windows.ipynb", b"X", DEC1), ("C:/Users/drive.ipynb", b"X", DEC1),
        ("alice/../../up.ipynb", b"X", DEC1), ("alice.ipynb", b"A", DEC1)])
    outside = "points outside the export ('..' or an absolute path), so it was skipped"
    assert import_submissions(archive, assignment) == (["alice"], [
        f"'../escape.ipynb': {outside}", f"'/etc/absolute.ipynb': {outside}",
        f"'..\\\\windows.ipynb': {outside}", f"'C:/Users/drive.ipynb': {outside}",
        f"'alice/../../up.ipynb': {outside}"])
    assert placed(assignment) == {submitted("alice"): (b"A", epoch(DEC1))}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "export.zip"]


def test_symbolic_links_are_skipped_in_zips_and_folders(assignment, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("alice.ipynb", DEC1), b"A")
        link = zipfile.ZipInfo("mallory.ipynb", DEC1)
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    assert import_submissions(archive, assignment) == (["alice"], [
        "mallory: is a symbolic link, so 'mallory.ipynb' was skipped"])

    secret = make_folder(tmp_path / "secret", [("hw.ipynb", b"SECRET", NOV29)])
    inbox = make_folder(tmp_path / "inbox", [("bob.ipynb", b"B", NOV30)])
    os.symlink(secret / "hw.ipynb", inbox / "mallory.ipynb")
    os.symlink(secret, inbox / "trudy")
    assert import_submissions(inbox, assignment) == (["bob"], [
        "'trudy': is a symbolic link to a folder, so it was skipped",
        "mallory: is a symbolic link, so 'mallory.ipynb' was skipped"])
    assert placed(assignment) == {submitted("alice"): (b"A", epoch(DEC1)),
                                  submitted("bob"): (b"B", epoch(NOV30))}


def test_oversized_entries_are_skipped_even_when_they_lie_about_their_size(assignment, tmp_path):
    archive = make_zip(tmp_path / "export.zip", [
        ("alice.ipynb", b"A" * 900, DEC1),
        ("bob.ipynb", b"B" * 1001, DEC1),                      # declared too large
        ("carol.ipynb", b"\0" * 20_000_000, DEC1)], compression=zipfile.ZIP_DEFLATED)
    patch(archive, "carol.ipynb", declare_uncompressed(100))  # a zip bomb declaring 100 bytes
    limits = ImportLimits(entry_bytes=1000, total_bytes=5000)
    assert import_submissions(archive, assignment, limits) == (["alice"], [
        "bob: is larger than 1000 bytes, so 'bob.ipynb' was skipped; ask the student to clear its outputs",
        "carol: is corrupt (it fails its CRC-32 check or is cut short), so 'carol.ipynb' was skipped; "
        "download the export again"])

    inbox = make_folder(tmp_path / "inbox", [("dan.ipynb", b"D" * 1001, NOV30)])
    assert import_submissions(inbox, assignment, limits) == ([], [
        "dan: is larger than 1000 bytes, so 'dan.ipynb' was skipped; ask the student to clear its outputs"])
    assert placed(assignment) == {submitted("alice"): (b"A" * 900, epoch(DEC1))}


@pytest.mark.parametrize("kind", ["zip", "folder"])
def test_the_whole_import_stops_at_its_byte_cap_before_placing_more(assignment, tmp_path, kind):
    entries = [(f"{s}.ipynb", s[0].encode() * 400, DEC1) for s in ("alice", "bob", "carol", "dan")]
    source = (make_zip(tmp_path / "export.zip", entries) if kind == "zip"
              else make_folder(tmp_path / "export", entries))
    with pytest.raises(AutograderError) as err:
        import_submissions(source, assignment, ImportLimits(total_bytes=1000))
    assert str(err.value) == (f"{source}: the import read more than 1000 bytes in all, the most one "
                              "import reads, and stopped before carol (2 imported): split the export "
                              "into smaller parts and import each")
    assert placed(assignment) == {submitted("alice"): (b"a" * 400, epoch(DEC1)),
                                  submitted("bob"): (b"b" * 400, epoch(DEC1))}


def test_the_whole_import_is_capped_by_its_file_count_before_placing_anything(assignment, tmp_path):
    entries = [(f"s{i}.ipynb", b"x", DEC1) for i in range(3)] + [("notes.txt", b"n", DEC1)]
    archive = make_zip(tmp_path / "export.zip", entries)
    inbox = make_folder(tmp_path / "inbox", entries)
    with pytest.raises(AutograderError) as err:
        import_submissions(archive, assignment, ImportLimits(entries=3))
    assert str(err.value) == (f"{archive} holds 4 files, more than the 3 one import reads: "
                              "split the export into smaller zips and import each")
    with pytest.raises(AutograderError) as err:
        import_submissions(inbox, assignment, ImportLimits(entries=3))
    assert str(err.value) == (f"{inbox} holds more than 3 files, the most one import reads: "
                              "split it into smaller folders and import each")
    assert placed(assignment) == {}


def test_a_file_that_is_not_a_zip_is_one_clear_error(course, tmp_path):
    archive = tmp_path / "export.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    message = (f"{archive} is not a readable zip file: download the export again, "
               "or give the folder of notebooks instead")
    with pytest.raises(AutograderError) as err:
        import_submissions(archive, course.assignment)
    assert str(err.value) == message
    result = course.cli("grade", "mixtures", "--from", str(archive))
    assert (result.returncode, result.stderr, result.stdout) == (2, f"autograder: error: {message}\n", "")


def test_entry_names_cannot_forge_or_colour_problem_lines(assignment, tmp_path):
    archive = make_zip(tmp_path / "export.zip", [
        ("mallory\nalice: kept 'alice.ipynb'.ipynb", b"M", DEC1),
        ("\x1b[31meve/hw.ipynb", b"E", DEC1),
        ("trudy\u202e/hw.ipynb", b"T", DEC1),
        ("bob/a\x1b[2J\r.ipynb", b"B-new", DEC1),
        ("bob/b.ipynb", b"B-old", NOV30)])
    imported, problems = import_submissions(archive, assignment)
    assert imported == ["bob"]
    assert problems == [
        '"mallory\\nalice: kept \'alice.ipynb\'.ipynb": "mallory\\nalice: kept \'alice.ipynb\'" '
        "cannot be used as a student id, so it was skipped",
        "'\\x1b[31meve/hw.ipynb': '\\x1b[31meve' cannot be used as a student id, so it was skipped",
        "'trudy\\u202e/hw.ipynb': 'trudy\\u202e' cannot be used as a student id, so it was skipped",
        f"bob: kept 'bob/a\\x1b[2J\\r.ipynb', the newest by its zip entry date ({shown(DEC1)}); "
        f"not imported: 'bob/b.ipynb' (zip entry date {shown(NOV30)})"]
    assert all(line.isprintable() for line in problems)
    assert placed(assignment) == {submitted("bob"): (b"B-new", epoch(DEC1))}


def test_an_lms_export_grades_end_to_end(course, source, with_answer, tmp_path):
    wrong_q1 = with_answer(source, "q1-answer", "def log_gaussian(x, mu, sigma):\n    return 0.0\n")
    archive = make_zip(tmp_path / "export-2026-12-01.zip", [
        ("export-2026-12-01/alice/files/old.ipynb", nbformat.writes(wrong_q1), NOV29),
        ("export-2026-12-01/alice/files/mixtures.ipynb", nbformat.writes(source), DEC1),
        ("export-2026-12-01/bob/files/mixtures.ipynb", nbformat.writes(source), DEC1),
        ("export-2026-12-01/carol.ipynb", nbformat.writes(wrong_q1), NOV30)],
        compression=zipfile.ZIP_DEFLATED)
    patch(archive, "export-2026-12-01/bob/files/mixtures.ipynb", flip_data)
    summary = course.grade(from_path=archive)
    assert summary.problems == [
        "alice: kept 'export-2026-12-01/alice/files/mixtures.ipynb', the newest by its zip entry date "
        f"({shown(DEC1)}); not imported: 'export-2026-12-01/alice/files/old.ipynb' "
        f"(zip entry date {shown(NOV29)})",
        "bob: is corrupt (it fails its CRC-32 check or is cut short), "
        "so 'export-2026-12-01/bob/files/mixtures.ipynb' was skipped; download the export again"]
    results = {r["student"]: (r["status"], r["score"], r["received_at"]) for r in summary.results}
    points = {q.id: q.points for q in questions(source)}
    total = sum(points.values())
    assert results == {"alice": ("graded", total, epoch(DEC1)),
                       "carol": ("graded", total - points["q1"], epoch(NOV30))}
    assert sorted(p.name for p in (course.root / "submitted").iterdir()) == ["alice", "carol"]
    assert (course.root / submitted("alice")).read_text() == nbformat.writes(source)
    assert (course.root / submitted("alice")).stat().st_mtime == epoch(DEC1)
