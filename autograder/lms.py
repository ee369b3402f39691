"""Grade files a learning-management system imports, written beside ``scores.csv``.

``reports/<assignment>/canvas.csv`` follows Canvas's gradebook import: ``Student`` ("Last,
First"), ``ID`` (the Canvas user id: nbgrader's ``lms_user_id``, blank if unknown), ``SIS
User ID`` (the nbgrader student id), ``SIS Login ID`` (the e-mail), ``Section`` (blank), then
one column named after the assignment, and a ``Points Possible`` row first, as Canvas's own
export has. Canvas matches students by ID or SIS ID; on import, map the assignment column
to the Canvas assignment.

``reports/<assignment>/moodle.csv`` follows Moodle's "Import grades from CSV": ``First name``,
``Last name``, ``ID number`` (the nbgrader id), ``Email address``, and one grade column named
after the assignment; on import map ``Email address`` (or ``ID number``) to the user and the
grade column to the grade item.

The grade is the final score (score − nbgrader's late penalty); a submission that was not
graded (missing, ungradable, grader error) has an empty grade, never a zero. Cells are guarded
against spreadsheet formulas as in ``scores.csv``.
"""
from .course import REPORTS_DIR, Assignment
from .files import write_whole
from .report import csv_bytes
from .store import final_score


def write_lms_grades(assignment: Assignment, results: list[dict], people: dict[str, dict]) -> list:
    """Write canvas.csv and moodle.csv; return their paths."""
    folder = assignment.root / REPORTS_DIR / assignment.name
    folder.mkdir(parents=True, exist_ok=True)
    name = assignment.name
    max_score = max((r["max_score"] for r in results), default=0)
    canvas = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", name],
              ["    Points Possible", "", "", "", "", max_score]]
    moodle = [["First name", "Last name", "ID number", "Email address", name]]
    for r in results:
        who = people.get(r["student"], {})
        first, last, email = who.get("first_name", ""), who.get("last_name", ""), who.get("email", "")
        shown = f"{last}, {first}" if last and first else (last or first or r["student"])
        canvas.append([shown, who.get("lms_user_id", ""), r["student"], email, "", final_score(r)])
        moodle.append([first, last, r["student"], email, final_score(r)])
    paths = [folder / "canvas.csv", folder / "moodle.csv"]
    for path, rows in zip(paths, (canvas, moodle)):
        write_whole(path, csv_bytes(rows))
    return paths
