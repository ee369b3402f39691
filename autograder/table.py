"""The grade table ``autograder grade`` prints: one row per student, then the reasons."""
from .report import notes
from .cli import shown

MARK = {"passed": "✓", "failed": "✗", "not run": "·"}


def _late(seconds: float) -> str:
    """How late, for the table: "" when on time, else minutes (under an hour) or hours."""
    if seconds <= 0:
        return ""
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def score_table(question_ids: list[str], results: list[dict], seconds_late: dict) -> str:
    """One row per student: status, lateness (with nbgrader's late penalty, if any), each
    question's points with a mark, and the total before the penalty; then why each
    submission lost points or was not graded."""
    header = ["student", "status", "late", *question_ids, "total"]
    rows = []
    for r in results:
        marks = {q["id"]: f"{q['points']:g}{MARK.get(q['status'], '?')}" for q in r.get("questions", [])}
        total = f"{r['score']:g}/{r['max_score']:g}" if r["status"] == "graded" else "–"
        late = _late(seconds_late.get(r["student"], 0.0))
        if r.get("late_penalty"):
            late += f" −{r['late_penalty']:g} pt"
        rows.append([shown(r["student"]), r["status"], late,
                     *[marks.get(q, "–") for q in question_ids], total])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    reasons = [(r["student"], notes(r) if r["status"] == "graded" else r.get("reason")) for r in results]
    reasons = [f"  {shown(student)}: {shown(why)}" for student, why in reasons if why]
    return "\n".join(lines + (["reasons:"] + reasons if reasons else []))
