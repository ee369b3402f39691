"""The service's sub-commands: ``serve``, ``tokens`` and ``submit``."""
import os
from pathlib import Path

from ..errors import AutograderError

OK, PROBLEMS = 0, 1


def _serve(args) -> int:
    from ..runner import Limits
    from .serve import serve
    return serve(Path(args.course).resolve(), args.host, args.port, args.workers, Limits(wall_seconds=args.timeout),
                 args.prefix)


def _roster(course: Path) -> set[str]:
    from nbgrader.api import Gradebook
    from ..course import GRADEBOOK, put_tools_on_path
    put_tools_on_path()
    with Gradebook(f"sqlite:///{course / GRADEBOOK}") as gb:
        return {student.id for student in gb.students}


def _tokens(args) -> int:
    from ..cli import shown
    from .tokens import INSTRUCTOR, Tokens
    course = Path(args.course).resolve()
    tokens = Tokens(course)
    if args.action == "list":
        for holder in sorted(tokens.hashes()):
            print(shown(holder))
        return OK
    if args.action == "revoke":
        for name in args.names:
            if not tokens.revoke(name):
                raise AutograderError(f"{shown(name)} has no token: `tokens list` shows who has one")
            print(f"revoked the token of {shown(name)}")
        return OK
    roster = _roster(course)
    names = args.names or sorted(roster - set(tokens.hashes()))
    if not args.names and not roster:
        raise AutograderError("the roster is empty: import it with `nbgrader db student import roster.csv` "
                              "in the course folder, then issue tokens")
    unknown = sorted(set(names) - roster - {INSTRUCTOR})
    if unknown:
        raise AutograderError(f"not on the roster: {', '.join(map(shown, unknown))}: add them with "
                              "`nbgrader db student add NAME` (or check the spelling)")
    for name in names:
        print(f"{shown(name)}\t{tokens.issue(name)}")
    print(f"# {len(names)} token(s) issued; they are shown only now (the course keeps their hashes): "
          "hand each to its holder privately")
    return OK


def _submit(args) -> int:
    from ..cli import shown
    from .client import read_token, submit
    attempt = submit(Path(args.notebook), args.server, args.assignment, read_token(args.token_file))
    print(f"{shown(attempt['assignment'])}: attempt {attempt['id']}, {shown(attempt['status'])}"
          + (f", {attempt['score']:g} / {attempt['max_score']:g} points" if attempt["status"] == "graded"
             else f" ({shown(attempt['reason'])})"))
    questions = attempt.get("questions", [])
    width = max((len(q["id"]) for q in questions), default=0)
    for q in questions:
        detail = f"  {shown(q['message'])}" if q.get("message") else ""
        print(f"  {shown(q['id']):<{width}}  {shown(q['status']):<8} {q['points']:g}/{q['max_points']:g} pt{detail}")
    return OK if attempt["status"] == "graded" and all(q["status"] == "passed" for q in questions) else PROBLEMS


def add_commands(commands, default_course: str, seconds, worker_count) -> None:
    """Add serve, tokens and submit to the top-level sub-parsers."""
    course_help = "the course folder (nbgrader's root); default: this repository"
    serve = commands.add_parser("serve", help="run the grading service (students get their grade in seconds)")
    serve.add_argument("--course", default=default_course, metavar="DIR", help=course_help)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--workers", type=worker_count, default=2, metavar="N",
                       help="grading worker processes (default: 2)")
    serve.add_argument("--timeout", type=seconds, default=120.0, metavar="SECONDS",
                       help="wall-time limit of one submission (default: 120)")
    serve.add_argument("--prefix", default=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", ""), metavar="PATH",
                       help="serve under this URL path (default: $JUPYTERHUB_SERVICE_PREFIX, else /)")
    serve.set_defaults(run=_serve)

    tokens = commands.add_parser("tokens", help="issue, list or revoke the service's tokens")
    tokens.add_argument("action", choices=("issue", "list", "revoke"))
    tokens.add_argument("names", nargs="*", metavar="NAME",
                        help="students (or 'instructor'); issue without names: every roster student without one")
    tokens.add_argument("--course", default=default_course, metavar="DIR", help=course_help)
    tokens.set_defaults(run=_tokens)

    send = commands.add_parser("submit", help="submit a notebook to the grading service and print the result")
    send.add_argument("notebook", help="path of your saved notebook")
    send.add_argument("--server", required=True, metavar="URL", help="the service's address, e.g. http://host:8000")
    send.add_argument("--assignment", metavar="NAME", help="default: the notebook's file name")
    send.add_argument("--token-file", type=Path, metavar="FILE",
                      help="file holding your token (default: $AUTOGRADER_TOKEN, else ~/.autograder-token)")
    send.set_defaults(run=_submit)
