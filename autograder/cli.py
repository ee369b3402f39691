"""Command line: ``python -m autograder release | check | validate``.

Exit codes: 0 success; 1 the work has problems (failed checks, failing questions);
2 the command could not run (bad arguments, missing or malformed files); 130 interrupted.
"""
import argparse
import os
import sys

from .errors import AutograderError

OK, PROBLEMS, ERROR, INTERRUPTED = 0, 1, 2, 130


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
    from .validate import validate

    results, warnings = validate(args.notebook)
    print(f"Validating {args.notebook} (visible checks only; hidden checks run when it is graded)")
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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release = commands.add_parser("release", help="make exercises/ from solutions/ with nbgrader")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    release.set_defaults(run=_release)

    check = commands.add_parser("check", help="verify releases, reference solutions and hidden probes")
    check.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    check.set_defaults(run=_check)

    validate = commands.add_parser("validate", help="run a notebook's visible checks")
    validate.add_argument("notebook", help="path of the exercise notebook")
    validate.set_defaults(run=_validate)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except AutograderError as err:
        print(f"autograder: error: {err}", file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        print("autograder: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as err:  # an unexpected fault: one line, the traceback on request
        if os.environ.get("AUTOGRADER_DEBUG"):
            raise
        print(f"autograder: internal error: {type(err).__name__}: {err} "
              "(set AUTOGRADER_DEBUG=1 to see the traceback)", file=sys.stderr)
        return ERROR
