"""Scores, computed in the trusted process from plain data.

A question (a graded test cell) earns its points only when its cell ran to the end in the
student's process AND every hidden probe that the reference solution recorded for it was
recorded again with a value equal to the reference's within the reference's tolerances.
The student's process can lie about the first part, but not about the second.
"""
import ast
import builtins
from dataclasses import dataclass

from .notebook import Question
from .values import MISSING, Difference, compare, decode, summarise

PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"


@dataclass(frozen=True)
class QuestionResult:
    id: str
    points: float
    max_points: float
    status: str
    message: str = ""


NOT_ANSWERED = "not answered yet (the stub still raises NotImplementedError)"
PLACEHOLDER = "…"   # stands for an f-string placeholder of a check's message (its value is not shown)
BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)}


def error_summary(error: str) -> str:
    """An exception report as one line (a SyntaxError's last line: the rest points at the
    code), in student-friendly words for a stub."""
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    if not lines:
        return "an error"
    line = lines[-1] if lines[0].startswith("File ") else " ".join(lines)
    if line.startswith("NotImplementedError"):
        return NOT_ANSWERED
    return line


def _exception_name(state: dict) -> str:
    name = state.get("error_type")
    return name if name in BUILTIN_EXCEPTIONS else "an exception"


def _check_text(source: str, line: int) -> str:
    """The visible check at ``line`` of a test cell, in the author's words: an assert's
    message (each {placeholder} of an f-string shown as PLACEHOLDER), or else the line itself."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Assert) and node.lineno <= line <= node.end_lineno and node.msg:
            if isinstance(node.msg, ast.Constant):
                return str(node.msg.value)
            if isinstance(node.msg, ast.JoinedStr):
                return "".join(str(part.value) if isinstance(part, ast.Constant) else PLACEHOLDER
                               for part in node.msg.values)
    return f"`{source.splitlines()[line - 1].strip()}`"


def explain_safely(question: Question, state: dict, statuses: dict) -> str:
    """Why a test cell failed, told only with text from the source notebook and builtin
    exception names: nothing the student's process wrote (it may have read the hidden tests)."""
    kind = _exception_name(state)
    line = state.get("line")
    if kind == "NotImplementedError":
        text = NOT_ANSWERED
    elif isinstance(line, int) and 1 <= line <= question.visible_lines:
        check = _check_text(question.source, line)
        text = f"check failed: {check}" if kind == "AssertionError" else f"{check} raised {kind}"
    else:
        text = f"the hidden checks stopped with {kind}"
    for answer in question.answers:
        broken = statuses.get(answer, {})
        if broken.get("status") == "error" and _exception_name(broken) != "NotImplementedError":
            where = f" at line {broken['line']}" if isinstance(broken.get("line"), int) else ""
            text += f" (your answer cell '{answer}' stopped with {_exception_name(broken)}{where})"
    return text


def score(questions: list[Question], outcome, oracle: dict | None) -> list[QuestionResult]:
    """One result per question.

    With ``oracle=None`` only the visible checks count and messages quote the errors as
    raised (a student's own run). With an oracle, the hidden probes count too, and messages
    come only from trusted text (see ``explain_safely``).
    """
    statuses, probes = outcome.cell_status(), outcome.probes()
    results = []
    for q in questions:
        state = statuses.get(q.id)
        if state is None:
            results.append(QuestionResult(q.id, 0.0, q.points, NOT_RUN, outcome.ending()))
            continue
        if state["status"] != "ok":
            message = (error_summary(state.get("error", "")) if oracle is None
                       else explain_safely(q, state, statuses))
            results.append(QuestionResult(q.id, 0.0, q.points, FAILED, message))
            continue
        expected = oracle.get(q.id, {}) if oracle is not None else {}
        wrong = _differences(expected, probes.get(q.id, {}))
        if wrong:
            results.append(QuestionResult(q.id, 0.0, q.points, FAILED, summarise(wrong, len(expected))))
        else:
            results.append(QuestionResult(q.id, q.points, q.points, PASSED))
    return results


def _differences(expected: dict, actual: dict) -> list[Difference]:
    """How each of the reference's probes that the student's run did not reproduce differs."""
    found = []
    for name, reference in expected.items():
        mine = actual.get(name)
        difference = Difference(MISSING) if mine is None else compare(
            decode(reference["value"]), decode(mine["value"]), reference["rtol"], reference["atol"])
        if difference:
            found.append(difference)
    return found
