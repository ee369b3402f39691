"""``autograder report``: a CSV of scores and a summary (PNG plot and HTML page).

Written to ``reports/<assignment>/``: ``scores.csv`` (one row per student: status, score,
each question's points, received time, lateness, notes on the questions not passed,
reason, nbgrader's late penalty and the final score = score − penalty, as `nbgrader export`
computes it), ``summary.png`` (the distribution of each question's score, and how many
submissions ended in each status) and ``summary.html`` (the plot, the per-question
statistics and the status counts).

Only a graded submission has a score; the others leave it blank. No CSV cell starts with a
character a spreadsheet reads as a formula (``= + - @``, tab, carriage return: OWASP's CSV
injection list): such a cell is prefixed with a single quote.
"""
import base64
import csv
import html
import io
from collections import Counter
from datetime import datetime, timezone

from .course import REPORTS_DIR, Assignment
from .feedback import PAGE
from .files import write_whole
from .notebook import questions
from .store import FINAL, GRADED, GRADER_ERROR, final_score
from .verdict import PASSED

STATUSES = [GRADED, "ungradable", "missing", GRADER_ERROR]


def _points(result: dict) -> dict[str, float]:
    return {q["id"]: q["points"] for q in result.get("questions", [])}


def notes(result: dict) -> str:
    """Why a graded submission lost points, one clause per message: "q4, q5: the notebook ran
    out of time (limit 120 s) while running cell 'q4-answer'" (the grader's own messages)."""
    by_message: dict[str, list[str]] = {}
    for q in result.get("questions", []):
        if q["status"] != PASSED and q.get("message"):
            by_message.setdefault(q["message"], []).append(q["id"])
    return "; ".join(f"{', '.join(ids)}: {message}" for message, ids in by_message.items())


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """A CSV cell that no spreadsheet runs as a formula."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_bytes(rows: list[list]) -> bytes:
    """UTF-8 CSV of the rows, every cell made spreadsheet-safe."""
    with io.StringIO(newline="") as f:
        out = csv.writer(f)
        for row in rows:
            out.writerow([spreadsheet_safe(v) for v in row])
        return f.getvalue().encode("utf-8")


def write_csv(path, question_ids: list[str], results: list[dict], lateness) -> None:
    rows = [["student", "status", "score", "max_score", *question_ids,
             "received_utc", "seconds_late", "isolated", "notes", "reason", "late_penalty", "final_score"]]
    for r in results:
        points = _points(r)
        received = (datetime.fromtimestamp(r["received_at"], timezone.utc).isoformat(timespec="seconds")
                    if r.get("received_at") else "")
        rows.append([r["student"], r["status"], r["score"] if r["status"] == GRADED else "", r["max_score"],
                     *[points.get(q, "") for q in question_ids], received, f"{lateness(r['student']):.0f}",
                     r.get("isolated", ""), notes(r), r.get("reason", ""), r.get("late_penalty") or "",
                     final_score(r)])
    write_whole(path, csv_bytes(rows))


def plot_summary(question_list, results: list[dict]):
    """A figure: one panel per question (how many students earned each score), one of statuses."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = [r for r in results if r["status"] == GRADED]
    n = len(question_list) + 1
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, q in zip(axes.flat, question_list):
        earned = Counter(_points(r).get(q.id, 0.0) for r in graded)
        levels = sorted(set(earned) | {0.0, q.points})
        ax.bar([f"{v:g}" for v in levels], [earned.get(v, 0) for v in levels], color="tab:blue")
        ax.set_title(f"{q.id} ({q.points:g} pt)")
        ax.set_xlabel("points")
        ax.set_ylabel("students")
    status_ax = axes.flat[len(question_list)]
    counts = Counter(r["status"] for r in results)
    status_ax.barh(STATUSES, [counts.get(s, 0) for s in STATUSES], color="tab:gray")
    status_ax.set_title("submissions")
    status_ax.set_xlabel("count")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def write_report(assignment: Assignment, source_nb, results: list[dict], lateness) -> list:
    """Write scores.csv, summary.png and summary.html; return their paths."""
    folder = assignment.root / REPORTS_DIR / assignment.name
    folder.mkdir(parents=True, exist_ok=True)
    question_list = questions(source_nb)
    ids = [q.id for q in question_list]
    csv_path, png_path, html_path = folder / "scores.csv", folder / "summary.png", folder / "summary.html"
    write_csv(csv_path, ids, results, lateness)

    fig = plot_summary(question_list, results)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    write_whole(png_path, buffer.getvalue())
    import matplotlib.pyplot as plt
    plt.close(fig)

    e = html.escape
    graded = [r for r in results if r["status"] == GRADED]
    rows = []
    for q in question_list:
        earned = [_points(r).get(q.id, 0.0) for r in graded]
        full = sum(p == q.points for p in earned)
        mean = sum(earned) / len(earned) if earned else 0.0
        rows.append(f"<tr><td>{e(q.id)}</td><td>{q.points:g}</td><td>{mean:.2f}</td>"
                    f"<td>{full} of {len(earned)}</td></tr>")
    counts = Counter(r["status"] for r in results)
    status_rows = "".join(f"<tr><td>{e(s)}</td><td>{counts.get(s, 0)}</td></tr>" for s in STATUSES)
    unsettled = sum(r["status"] not in FINAL for r in results)
    body = (f"<h1>{e(assignment.name)}: grading summary</h1>"
            f"<p>{len(results)} students; {len(graded)} graded"
            + (f"; {unsettled} still to grade (rerun <code>autograder grade</code>)" if unsettled else "")
            + "</p>"
            f'<img alt="score distribution per question" src="data:image/png;base64,'
            f'{base64.b64encode(buffer.getvalue()).decode()}">'
            "<h2>Questions</h2><table><thead><tr><th>Question</th><th>Points</th><th>Mean</th>"
            "<th>Full marks</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            "<h2>Statuses</h2><table><tbody>" + status_rows + "</tbody></table>"
            '<p>Scores per student: <a href="scores.csv">scores.csv</a></p>')
    write_whole(html_path, PAGE.format(title=e(f"{assignment.name}: summary"), body=body).encode("utf-8"))
    return [csv_path, png_path, html_path]
