"""Command line: ``python -m autograder release | check | validate | doctor | collect | grade | feedback | report``,
and the grading service's ``serve | tokens | submit``.

Exit codes: 0 success; 1 the work has problems (failed checks, failing questions, grader
errors left to retry); 2 the command could not run (bad arguments, missing or malformed
files); 130 interrupted. Every error is one line on stderr, built from the grader's own
text; student ids and reasons are printed with control characters escaped (``shown``).
"""
import argparse
import errno
import math
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

from .errors import AutograderError

OK, PROBLEMS, ERROR, INTERRUPTED = 0, 1, 2, 130
MAX_TIMEOUT = 86_400.0   # one day: the longest wall-time limit of one submission
FILE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}  # a file's, even without its name


def shown(text) -> str:
    """``text`` safe to print on a terminal: control characters, line breaks and other
    invisible characters appear as Python escapes (``\\x1b``, ``\\n``, ``\\u202e``)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(text))


def _release(args) -> int:
    from .course import find_assignments
    from .release import release

    for assignment in find_assignments(args.assignments):
        changed = release(assignment)
        state = "updated" if changed else "unchanged"
        print(f"{assignment.release.relative_to(assignment.root)}: {state}")
    return OK


def _check(args) -> int:
    from .check import check_assignment
    from .course import find_assignments

    status = OK
    for assignment in find_assignments(args.assignments):
        report = check_assignment(assignment)
        total = sum(r.max_points for r in report.reference)
        ref = sum(r.points for r in report.reference)
        blank = sum(r.points for r in report.blank)
        verdict = "ok" if not report.problems else "PROBLEMS"
        print(f"{assignment.name}: {verdict} — reference {ref:g}/{total:g}, blank release "
              f"{blank:g}/{total:g}, {len(report.reference)} questions ({report.seconds:.1f} s)")
        for problem in report.problems:
            print(f"  - {problem}")
        status = status if not report.problems else PROBLEMS
    return status


def _validate(args) -> int:
    from .runner import Limits
    from .validate import unsaved_warnings, validate

    path = _existing_notebook(args.notebook)
    print(f"Validating {path} (visible checks only; hidden checks run when it is graded). It reads the "
          f"saved file: save in JupyterLab first. Stops after {args.timeout:g} s (--timeout SECONDS).",
          flush=True)
    done = []

    def progress(question_id: str) -> None:
        done.append(question_id)
        print(f"  … {shown(question_id)} checked ({len(done)} so far)", flush=True)

    for note in unsaved_warnings(path, time.time()) if path.is_file() else []:
        print(f"  note: {note}", flush=True)
    results, warnings = validate(path, limits=Limits(wall_seconds=args.timeout), progress=progress)
    for warning in warnings:
        print(f"  warning: {warning}")
    width = max(len(r.id) for r in results)
    for r in results:
        label = "passed" if r.status == "passed" else r.status.upper()
        detail = f"  {r.message}" if r.message else ""
        print(f"  {r.id:<{width}}  {label:<8} {r.max_points:g} pt{detail}")
    passed = sum(r.status == "passed" for r in results)
    print(f"{passed} of {len(results)} questions pass their visible checks.")
    return OK if passed == len(results) else PROBLEMS


def _doctor(args) -> int:
    from .doctor import run_checks

    failed = 0
    for finding in run_checks():
        if finding.ok:
            print(f"ok    {shown(finding.what)}", flush=True)
        else:
            failed += 1
            print(f"FAIL  {shown(finding.what)} — to fix: {shown(finding.fix)}", flush=True)
    print("Ready for the course." if not failed else
          f"{failed} check{'s' if failed > 1 else ''} failed: fix {'them' if failed > 1 else 'it'} and run "
          "`python -m autograder doctor` again (or ask before the first session).")
    return OK if not failed else PROBLEMS


def _existing_notebook(text: str) -> Path:
    """The notebook path; one line when a Windows-style path that does not exist was typed
    (with the '/' form when that one exists). Other faults are told when it is read."""
    path = Path(text)
    if "\\" in text and not path.exists():
        slashed = Path(text.replace("\\", "/"))
        hint = f": try {slashed}" if slashed.is_file() else ""
        raise AutograderError(f"no notebook at {shown(text)}: on this system paths use '/', not '\\'{hint}")
    return path


def _fetch(args) -> int:
    from .fetch import fetch

    notebook = fetch(args.assignment, Path(args.folder).expanduser())
    print(f"copied the {args.assignment} exercise to {notebook}")
    print(f"next: open it in JupyterLab, and check it with `python -m autograder validate {notebook}`")
    return OK


def _course_assignment(args):
    from .course import find_assignments
    return find_assignments([args.assignment], root=Path(args.course).resolve())[0]


def _collect(args) -> int:
    from .collect import collect

    assignment = _course_assignment(args)
    collected, problems = collect(assignment, Path(args.exchange), args.course_id)
    for problem in problems:
        print(f"  {shown(problem)}")
    print(f"{assignment.name}: collected {len(collected)} hand-in{'s' * (len(collected) != 1)} from the exchange "
          f"into {assignment.root / 'submitted'}/" + (f" ({', '.join(map(shown, collected))})" if collected else ""))
    return OK


def _grade(args) -> int:
    from .batch import grade_assignment
    from .table import score_table
    from .notebook import questions, read_notebook
    from .runner import Limits
    from .course import SUBMITTED_DIR
    from .store import GRADER_ERROR, MISSING

    assignment = _course_assignment(args)
    summary = grade_assignment(assignment, from_path=args.from_path, scheduler=args.scheduler,
                               workers=args.workers, force=args.force or bool(args.students),
                               limits=Limits(wall_seconds=args.timeout), students=args.students)
    for problem in summary.problems:
        print(f"  skipped while importing: {shown(problem)}")
    if not summary.results:
        print(f"{assignment.name}: no submissions and no students on the roster yet "
              f"(submissions go in {assignment.root / SUBMITTED_DIR}/<student>/{assignment.name}/)")
        return OK
    if not args.students and all(r["status"] == MISSING for r in summary.results):
        n = len(summary.results)
        print(f"{assignment.name}: no submissions yet; {n} student{'s' * (n != 1)} on the roster "
              f"{'are' if n != 1 else 'is'} missing (submissions go in "
              f"{assignment.root / SUBMITTED_DIR}/<student>/{assignment.name}/)")
        return OK
    counts = {}
    for r in summary.results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(f"{assignment.name}: {len(summary.results)} students — "
          + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
          + f" ({summary.graded_now} graded now, {summary.unchanged} unchanged)")
    print(score_table([q.id for q in questions(read_notebook(assignment.source))], summary.results,
                       summary.seconds_late))
    if summary.not_on_roster:
        print(f"note: not on the roster, graded and added to the gradebook: "
              f"{', '.join(map(shown, summary.not_on_roster))}; if that is wrong, check the folder names "
              f"under {assignment.root / SUBMITTED_DIR}/ (or add the students first with "
              "`nbgrader db student add NAME`)")
    exposed = [shown(r["student"]) for r in summary.results
               if r["status"] == "graded" and not r.get("isolated", True)]
    if exposed:
        print(f"note: graded WITHOUT the sandbox (not isolated): {', '.join(exposed)}; once bubblewrap "
              f"works, regrade them with `python -m autograder grade {assignment.name} --student "
              f"{' '.join(exposed)}`")
    return PROBLEMS if counts.get(GRADER_ERROR) else OK


def _recorded(assignment):
    """(source notebook, recorded results, lateness(student)) of an assignment."""
    from .errors import AutograderError
    from .notebook import read_notebook
    from .store import Store

    source = read_notebook(assignment.source)
    store = Store(assignment, source)
    results = store.results()
    if not results:
        store.close()
        raise AutograderError(f"nothing has been graded for {assignment.name} yet: "
                              f"run `python -m autograder grade {assignment.name}` first")
    return source, results, store


def _write_from_results(args, write) -> list:
    """Run ``write(assignment, source, results, store)`` on the recorded results."""
    assignment = _course_assignment(args)
    source, results, store = _recorded(assignment)
    try:
        return write(assignment, source, results, store)
    finally:
        store.close()


def _feedback(args) -> int:
    from .feedback import write_feedback

    pages = _write_from_results(args, lambda assignment, source, results, store:
                                write_feedback(assignment, source, results, store.seconds_late))
    print(f"{args.assignment}: wrote {len(pages)} feedback pages under "
          f"{Path(args.course).resolve() / 'feedback'}/<student>/{args.assignment}/")
    return OK


def _report(args) -> int:
    from .lms import write_lms_grades
    from .report import write_report

    def write(assignment, source, results, store):
        return (write_report(assignment, source, results, store.seconds_late)
                + write_lms_grades(assignment, results, store.people()))

    for path in _write_from_results(args, write):
        print(f"wrote {path}")
    return OK


def _worker_count(text: str) -> int:
    """``--workers``: a whole number, at least 1."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return count


def _seconds(text: str) -> float:
    """``--timeout``: a number of seconds above 0 and at most MAX_TIMEOUT."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_TIMEOUT:  # nan fails every comparison
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0 and at most "
                                         f"{MAX_TIMEOUT:g} (one day), not {text!r}")
    return seconds


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (exit code 2), saying where the help is."""

    def error(self, message):
        self.exit(ERROR, f"autograder: error: {shown(message)} (see `{self.prog} --help`)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="python -m autograder", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release = commands.add_parser("release", help="make exercises/ from solutions/ with nbgrader")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    release.set_defaults(run=_release)

    check = commands.add_parser("check", help="verify releases, reference solutions and hidden probes")
    check.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    check.set_defaults(run=_check)

    validate = commands.add_parser(
        "validate", help="run a notebook's visible checks", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run your exercise notebook from top to bottom, as grading will, and report each "
                    "question's\nvisible checks. Hidden checks run only when it is graded. It reads the "
                    "saved file:\nsave in JupyterLab (Ctrl/Cmd-S) first.",
        epilog="example:\n  python -m autograder validate exercises/mixtures/mixtures.ipynb\n"
               "  python -m autograder validate ~/work/mixtures/mixtures.ipynb --timeout 300")
    validate.add_argument("notebook", help="path of the exercise notebook")
    validate.add_argument("--timeout", type=_seconds, default=120.0, metavar="SECONDS",
                          help="stop after this many seconds (default: 120)")
    validate.set_defaults(run=_validate)

    fetch = commands.add_parser("fetch", help="copy an exercise into your own folder to work on")
    fetch.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. mixtures")
    fetch.add_argument("folder", nargs="?", default=".", metavar="DIR", help="default: the current folder")
    fetch.set_defaults(run=_fetch)

    doctor = commands.add_parser("doctor", help="check that this machine is ready for the course")
    doctor.set_defaults(run=_doctor)

    def course_command(name, help_text, run):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("assignment", metavar="ASSIGNMENT")
        command.add_argument("--course", default=str(ROOT), metavar="DIR",
                             help="the course folder (nbgrader's root: solutions/, submitted/, "
                                  "gradebook.db); default: this repository")
        command.set_defaults(run=run)
        return command

    from .course import ROOT
    grade = course_command("grade", "grade every submission in submitted/<student>/ASSIGNMENT/", _grade)
    grade.add_argument("--from", dest="from_path", metavar="PATH",
                       help="first import a folder or .zip of notebooks named by student")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the sandboxes on the Dask cluster with this scheduler (tcp://host:port)")
    grade.add_argument("--workers", type=_worker_count, metavar="N",
                       help="local worker processes (default: one per core)")
    grade.add_argument("--timeout", type=_seconds, default=120.0, metavar="SECONDS",
                       help="wall-time limit of one submission (default: 120)")
    grade.add_argument("--force", action="store_true", help="regrade even unchanged submissions")
    grade.add_argument("--student", dest="students", nargs="+", metavar="NAME",
                       help="regrade only these students (even if their work is unchanged)")
    collect = course_command("collect", "copy hand-ins from nbgrader's exchange into submitted/, "
                                        "dated by a clock students cannot set", _collect)
    collect.add_argument("--exchange", default="/srv/nbgrader/exchange", metavar="DIR",
                         help="nbgrader's Exchange.root (default: /srv/nbgrader/exchange)")
    collect.add_argument("--course-id", required=True, metavar="ID", help="nbgrader's CourseDirectory.course_id")
    course_command("feedback", "write an HTML feedback page per student", _feedback)
    course_command("report", "write scores.csv and a summary (PNG and HTML)", _report)
    from .service.commands import add_commands
    add_commands(commands, str(ROOT), _seconds, _worker_count)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line
            return args.run(args)
    except AutograderError as err:
        print(f"autograder: error: {shown(err)}", file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        print("autograder: interrupted", file=sys.stderr)
        return INTERRUPTED
    except ModuleNotFoundError as err:  # run with a Python that lacks the course's packages
        print(f"autograder: error: this Python ({sys.executable}) lacks the course's package "
              f"'{shown(err.name)}': run it with .venv/bin/python (`make env` creates it)", file=sys.stderr)
        return ERROR
    except Exception as err:  # an unexpected fault: one line, the traceback on request
        if os.environ.get("AUTOGRADER_DEBUG"):
            traceback.print_exc()
        print(_unexpected(err), file=sys.stderr)
        return ERROR


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr (not Python's two lines naming the source)."""
    print(f"autograder: warning: {shown(message)}", file=sys.stderr)


def _unexpected(err: Exception) -> str:
    """The line for a fault nothing else caught, from trusted text only (an exception's own
    text may quote what a sandbox printed)."""
    if isinstance(err, OSError) and (err.filename or err.errno in FILE_ERRORS):
        what = f"cannot use {shown(err.filename)}" if err.filename else "a file could not be written"
        return (f"autograder: error: {what} ({err.strerror}): check that the course folder is "
                "writable and its disk has free space, then rerun")
    return (f"autograder: internal error ({type(err).__name__}): rerun with AUTOGRADER_DEBUG=1 "
            "to see the traceback, and report it")
