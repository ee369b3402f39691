"""Class administration an instructor relies on: the roster, late penalties, LMS grade files,
and the autograded notebook formgrader opens for manual grading."""
import csv
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
from conftest import Course

BIN = Path(sys.executable).parent
DUE = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def nbgrader(course: Course, *args) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course.root, capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def late_class(course: Course, source, hours_late: float, config: str) -> Course:
    """One student, ``hours_late`` after the due date, under the nbgrader_config.py ``config``."""
    (course.root / "nbgrader_config.py").write_text("c = get_config()\n" + config)
    with course.gradebook() as gb:
        gb.update_or_create_assignment("mixtures", duedate=DUE.replace(tzinfo=None))
    path = course.submit("lena", source)
    when = (DUE + timedelta(hours=hours_late)).timestamp()
    os.utime(path, (when, when))
    return course


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_an_imported_roster_lists_the_missing_and_names_who_is_not_on_it(course, source):
    (course.root / "roster.csv").write_text("id,first_name,last_name,email\nada,Ada,Lovelace,ada@example.edu\n"
                                            "bo,Bo,Chen,bo@example.edu\n")
    nbgrader(course, "db", "student", "import", "roster.csv")
    course.submit("ada", source)
    course.submit("zed", source)
    result = course.cli("grade", "mixtures")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "mixtures: 3 students — 2 graded, 1 missing (2 graded now, 0 unchanged)"
    assert [line.split()[:2] for line in lines[2:5]] == [["ada", "graded"], ["bo", "missing"], ["zed", "graded"]]
    assert lines[-1] == (f"note: not on the roster, graded and added to the gradebook: zed; if that is wrong, "
                         f"check the folder names under {course.root / 'submitted'}/ (or add the students "
                         "first with `nbgrader db student add NAME`)")


def test_the_zero_penalty_shows_in_table_csv_feedback_and_nbgrader_export(course, source):
    late_class(course, source, 2.5, "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    result = course.cli("grade", "mixtures")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2] == "lena     graded  2.5 h −11 pt  1✓  2✓  2✓  2✓  2✓  1✓  1✓  11/11"
    assert course.cli("report", "mixtures").returncode == 0
    (row,) = read_csv(course.root / "reports/mixtures/scores.csv")
    assert (row["score"], row["seconds_late"], row["late_penalty"], row["final_score"]) == ("11.0", "9000", "11.0", "0.0")
    assert course.cli("feedback", "mixtures").returncode == 0
    page = (course.root / "feedback/lena/mixtures/mixtures.html").read_text()
    assert "late by 2.5 h; late penalty 11 points, final score 0 / 11" in page
    nbgrader(course, "export")
    (exported,) = read_csv(course.root / "grades.csv")
    assert (exported["raw_score"], exported["late_submission_penalty"], exported["score"]) == ("11.0", "11.0", "0.0")


def test_a_course_plugin_class_sets_the_penalty(course, source):
    (course.root / "hourly_penalty.py").write_text(
        "from nbgrader.plugins import BasePlugin\n\n"
        "class OnePointPerHour(BasePlugin):\n"
        "    def late_submission_penalty(self, student_id, score, total_seconds_late):\n"
        "        return total_seconds_late // 3600 + 1\n")
    late_class(course, source, 2.5, "c.AssignLatePenalties.plugin_class = 'hourly_penalty.OnePointPerHour'\n")
    result = course.cli("grade", "mixtures")
    assert result.stdout.splitlines()[2] == "lena     graded  2.5 h −3 pt  1✓  2✓  2✓  2✓  2✓  1✓  1✓  11/11"
    recorded = json.loads((course.root / "autograded/lena/mixtures/autograder-result.json").read_text())
    assert (recorded["score"], recorded["late_penalty"]) == (11.0, 3.0)


def test_on_time_work_has_no_penalty_even_with_a_zero_policy(course, source):
    late_class(course, source, -1, "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    course.cli("grade", "mixtures")
    recorded = json.loads((course.root / "autograded/lena/mixtures/autograder-result.json").read_text())
    assert (recorded["score"], recorded["late_penalty"]) == (11.0, None)


def test_report_writes_canvas_and_moodle_grade_files(course, source, with_answer):
    (course.root / "roster.csv").write_text("id,first_name,last_name,email\nada,Ada,Lovelace,ada@example.edu\n"
                                            "bo,Bo,Chen,bo@example.edu\neve,=HYPERLINK(1),Eve,eve@example.edu\n")
    nbgrader(course, "db", "student", "import", "roster.csv")
    course.submit("ada", source)
    course.submit("eve", with_answer(source, "q6-answer", "def prob_good(*a):\n    return 0.5\n"))
    course.cli("grade", "mixtures")
    report = course.cli("report", "mixtures")
    assert report.returncode == 0, report.stderr
    folder = course.root / "reports/mixtures"
    assert f"wrote {folder / 'canvas.csv'}" in report.stdout.splitlines()
    assert (folder / "canvas.csv").read_text().splitlines() == [
        "Student,ID,SIS User ID,SIS Login ID,Section,mixtures",
        "    Points Possible,,,,,11.0",
        "\"Lovelace, Ada\",,ada,ada@example.edu,,11.0",
        "\"Chen, Bo\",,bo,bo@example.edu,,",
        "\"Eve, =HYPERLINK(1)\",,eve,eve@example.edu,,10.0",
    ]
    assert (folder / "moodle.csv").read_text().splitlines() == [
        "First name,Last name,ID number,Email address,mixtures",
        "Ada,Lovelace,ada,ada@example.edu,11.0",
        "Bo,Chen,bo,bo@example.edu,",
        "'=HYPERLINK(1),Eve,eve,eve@example.edu,10.0",
    ]


def test_formgrader_gets_the_graded_notebook_and_manual_grades_reach_the_export(course, source, with_answer):
    answer = "def prob_good(*a):\n    return 0.5\n"
    submission = with_answer(source, "q6-answer", answer)
    for cell in submission.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(1)</script>"})]
    submission.cells.append(nbformat.v4.new_code_cell("print('my own extra cell')", id="extra"))
    course.submit("ada", submission)
    assert course.cli("grade", "mixtures").returncode == 0
    graded = nbformat.read(course.root / "autograded/ada/mixtures/mixtures.ipynb", as_version=4)
    text = nbformat.writes(graded)
    assert "<script>" not in text and all(c.get("outputs", []) == [] for c in graded.cells)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in graded.cells}
    assert by_id["q6-answer"].source == answer
    assert by_id["q6"].source == next(c.source for c in source.cells
                                      if c.metadata.get("nbgrader", {}).get("grade_id") == "q6")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in graded.cells]
    added = graded.cells[ids.index("q7") + 1]     # where the student put it: after the last cell
    assert (added.source, added.metadata.get("nbgrader")) == ("print('my own extra cell')", None)
    assert [c.source for c in graded.cells if c is not added and c.cell_type == "markdown"] == \
        [c.source for c in source.cells if c.cell_type == "markdown"]
    with course.gradebook() as gb:
        grade = gb.find_grade("q6", "mixtures", "mixtures", "ada")
        assert grade.auto_score == 0
        grade.manual_score = 1.0
        gb.db.commit()
    nbgrader(course, "export")
    (exported,) = read_csv(course.root / "grades.csv")
    assert exported["score"] == "11.0"


def test_an_ungradable_resubmission_removes_the_stale_graded_notebook(course, source):
    course.submit("ada", source)
    course.cli("grade", "mixtures")
    assert (course.root / "autograded/ada/mixtures/mixtures.ipynb").is_file()
    course.submit("ada", b"")
    course.cli("grade", "mixtures")
    assert not (course.root / "autograded/ada/mixtures/mixtures.ipynb").exists()

