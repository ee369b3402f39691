"""The instructor's check of an assignment before it goes out.

1. exercises/ is exactly what ``release`` makes from solutions/ now;
2. nothing hidden (solution code, hidden tests) is anywhere in the release folder;
3. the reference solution passes every test cell, records at least one hidden probe per
   question, and so scores full marks against itself;
4. the untouched release, graded with the hidden tests put back, scores zero on every
   question and every question is reached (no grader error).
"""
import re
import time
from dataclasses import dataclass, field

from .course import Assignment
from .errors import AutograderError
from .grade import grade_notebook, reference_oracle
from .notebook import parse_notebook, questions, read_notebook
from .release import generate_release
from .verdict import NOT_RUN, QuestionResult, score

REGIONS = [("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]
MARKERS = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|\bprobe\(")


@dataclass
class CheckReport:
    assignment: str
    problems: list[str] = field(default_factory=list)
    reference: list[QuestionResult] = field(default_factory=list)
    blank: list[QuestionResult] = field(default_factory=list)
    seconds: float = 0.0


def split_lines(source_nb) -> tuple[set[str], set[str]]:
    """(lines inside solution or hidden-test regions, lines outside them), stripped."""
    hidden, public = set(), set()
    for cell in source_nb.cells:
        inside = False
        for line in cell.source.splitlines():
            text = line.strip()
            if any(text.startswith(begin) for begin, _ in REGIONS):
                inside = True
            elif any(text.startswith(end) for _, end in REGIONS):
                inside = False
            elif text:
                (hidden if inside else public).add(text)
    return hidden, public


def leaks(source_nb, assignment: Assignment) -> list[str]:
    """Every file of the release folder is searched for hidden lines and markers."""
    hidden, public = split_lines(source_nb)
    secret = hidden - public
    found = []
    for path in sorted(assignment.release.parent.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        cells = parse_notebook(text).cells if path.suffix == ".ipynb" else []
        for line in (line.strip() for cell in cells for line in cell.source.splitlines()):
            if line in secret:
                found.append(f"{path}: solution or hidden-test line leaked: {line[:60]!r}")
        if MARKERS.search(text):
            found.append(f"{path}: contains a solution or hidden-test marker")
    return found


def check_assignment(assignment: Assignment) -> CheckReport:
    started = time.perf_counter()
    report = CheckReport(assignment.name)
    source = read_notebook(assignment.source)
    graded = questions(source)
    if not graded:
        report.problems.append(f"{assignment.source} has no graded test cells")
        return report

    expected = generate_release(assignment)
    if not assignment.release.is_file():
        report.problems.append(f"{assignment.release} is missing: run `python -m autograder release`")
    elif assignment.release.read_text(encoding="utf-8") != expected:
        report.problems.append(f"{assignment.release} is out of date: run `python -m autograder release`")
    else:
        report.problems.extend(leaks(source, assignment))

    try:
        oracle = reference_oracle(source)
    except AutograderError as err:
        report.problems.append(str(err))
        return report
    for q in graded:
        recorded = oracle.probes[q.id]
        if not recorded:
            report.problems.append(f"test cell '{q.id}' has no hidden probe: a wrong answer could pass it")
        for name, event in recorded.items():
            if isinstance(event["value"], dict) and "__unencodable__" in event["value"]:
                report.problems.append(f"probe '{name}' of '{q.id}' records a value that is not plain data")
    report.reference = score(graded, oracle.outcome, oracle.probes)
    report.problems.extend(f"the reference solution loses the points of '{r.id}': {r.message}"
                           for r in report.reference if r.points < r.max_points)

    report.blank = grade_notebook(source, parse_notebook(expected), oracle)
    for r in report.blank:
        if r.points > 0:
            report.problems.append(f"the blank release scores points on '{r.id}'")
        if r.status == NOT_RUN:
            report.problems.append(f"the blank release never reached '{r.id}': {r.message}")
    report.seconds = time.perf_counter() - started
    return report
