"""``autograder feedback``: one HTML page per student from the recorded results.

A page says which questions passed, with the visible check messages (built by the grader
from the source notebook's own text, never from what the student's process printed), and
never shows a hidden probe's source or inputs. Every string is HTML-escaped and the page
forbids scripts through its Content-Security-Policy, so nothing a student wrote can run in
the instructor's or the student's browser. Submissions are never copied into feedback.
"""
import html
from datetime import datetime, timezone
from pathlib import Path

from .course import FEEDBACK_DIR, SECRET_FILE, SUBMITTED_DIR, TIMESTAMP_FILE, Assignment
from .files import write_whole
from .notebook import TEST, cell_role, grade_id
from .store import GRADED, GRADER_ERROR, MISSING, UNGRADABLE, final_score

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ccc; padding: .4rem; text-align: left; vertical-align: top; }}
.passed {{ color: #17702a; }} .failed, .not-run {{ color: #a4161a; }}
.note {{ background: #fff4d6; padding: .5rem; }}
</style></head>
<body>
{body}
</body></html>
"""
STATUS_TEXT = {
    GRADED: "graded",
    UNGRADABLE: "could not be graded",
    MISSING: "no submission was found",
    GRADER_ERROR: "not graded yet: the grader had a problem and will try again",
}


def question_titles(source_nb) -> dict[str, str]:
    """Each graded cell's title: the first line of the markdown cell that introduces it."""
    titles, heading = {}, ""
    for cell in source_nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            heading = cell.source.strip().splitlines()[0].lstrip("#").strip()
        elif cell.cell_type == "code" and cell_role(cell) == TEST:
            titles[grade_id(cell)] = heading
    return titles


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "–"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def render(result: dict, titles: dict[str, str], seconds_late: float) -> str:
    """The feedback page of one recorded result."""
    e = html.escape
    student, assignment = result["student"], result["assignment"]
    status = result["status"]
    parts = [f"<h1>{e(assignment)}: feedback for {e(student)}</h1>",
             f"<p>Status: <strong>{e(STATUS_TEXT.get(status, status))}</strong>"]
    if result.get("reason") and status != GRADED:
        parts[-1] += f" ({e(result['reason'])})"
    parts[-1] += "</p>"
    if status == GRADED:  # nothing else has a score, not even a zero
        parts.append(f"<p>Score: <strong>{result['score']:g} / {result['max_score']:g}</strong></p>")
    penalty = result.get("late_penalty") or 0
    parts.append(f"<p>Received: {e(_when(result.get('received_at')))}"
                 + (f" — late by {seconds_late / 3600:.1f} h" if seconds_late > 0 else "")
                 + (f"; late penalty {penalty:g} points, final score {final_score(result):g} / "
                    f"{result['max_score']:g}" if penalty and status == GRADED else "") + "</p>")
    if status == GRADED and not result.get("isolated", True):
        parts.append('<p class="note">Graded without the sandbox (this machine has no bubblewrap).</p>')
    rows = []
    for q in result.get("questions", []):
        css = q["status"].replace(" ", "-")
        rows.append(f"<tr><td>{e(q['id'])}</td><td>{e(titles.get(q['id'], ''))}</td>"
                    f"<td>{q['points']:g} / {q['max_points']:g}</td>"
                    f"<td class=\"{e(css)}\">{e(q['status'])}</td><td>{e(q.get('message', ''))}</td></tr>")
    if rows:
        parts.append("<table><thead><tr><th>Question</th><th>Title</th><th>Points</th><th>Status</th>"
                     "<th>What the checks said</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
        parts.append("<p>Besides the visible checks you can run yourself, each question has hidden "
                     "checks that call your functions on other inputs and compare the results with "
                     "the reference solution's. Their inputs are not shown here.</p>")
    return PAGE.format(title=e(f"{assignment}: {student}"), body="\n".join(parts))


def _copy_exchange_files(submitted: Path, feedback: Path) -> None:
    """What ``nbgrader release_feedback`` needs beside the page, from a hand-in that came
    through the exchange (``autograder collect`` wrote both, the secret checked)."""
    for name in (TIMESTAMP_FILE, SECRET_FILE):
        if (submitted / name).is_file() and not (submitted / name).is_symlink():
            write_whole(feedback / name, (submitted / name).read_bytes())


def write_feedback(assignment: Assignment, source_nb, results: list[dict], lateness) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/<assignment>.html`` for every result."""
    titles = question_titles(source_nb)
    written = []
    for result in results:
        folder = assignment.student_dir(FEEDBACK_DIR, result["student"])
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / f"{assignment.name}.html"
        write_whole(page, render(result, titles, lateness(result["student"])).encode("utf-8"))
        written.append(page)
        _copy_exchange_files(assignment.student_dir(SUBMITTED_DIR, result["student"]), folder)
    return written
