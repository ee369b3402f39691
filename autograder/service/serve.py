"""``autograder serve``: start the grader process, then the web process, on one machine.

The grader is forked first, before the web server starts any thread, and dies with the
server (``PR_SET_PDEATHSIG``); if the grader stops, the server stops too, with one line, so
no student waits on a queue nobody grades. Due dates are nbgrader's, read once at start:
restart the service after changing them.
"""
import multiprocessing
import os
import sys
import threading
from datetime import timezone
from pathlib import Path

from ..batch import _die_with
from ..course import Assignment, assignment_names, put_tools_on_path
from ..errors import AutograderError
from ..runner import Limits
from .policy import load_policies


def due_dates(course: Path, names: list[str]) -> dict[str, float | None]:
    """nbgrader's due date of each assignment (epoch seconds), None where unset."""
    from nbgrader.api import Gradebook, MissingEntry
    put_tools_on_path()
    dues = dict.fromkeys(names)
    with Gradebook(Assignment(names[0], course).gradebook_url) as gb:
        for name in names:
            try:
                due = gb.find_assignment(name).duedate
            except MissingEntry:
                continue
            dues[name] = due.replace(tzinfo=timezone.utc).timestamp() if due else None
    return dues


def _grader_main(course, policies, workers, limits, parent) -> None:
    _die_with(parent)
    from .grader import run
    try:
        run(course, policies, workers, limits)
    except AutograderError as err:
        print(f"autograder: error: the grader stopped: {err}", file=sys.stderr, flush=True)
        os._exit(2)


def serve(course: Path, host: str, port: int, workers: int, limits: Limits, prefix: str = "") -> int:
    names = assignment_names(course)
    if not names:
        raise AutograderError(f"no assignments found under {course / 'solutions'}: is this a course folder?")
    policies = load_policies(course, names, due_dates(course, names))
    grader = multiprocessing.get_context("fork").Process(
        target=_grader_main, args=(course, policies, workers, limits, os.getpid()), name="autograder-grader")
    grader.start()
    import uvicorn
    from .app import make_app
    server = uvicorn.Server(uvicorn.Config(make_app(course, policies, prefix), host=host, port=port,
                                           log_level="warning", access_log=False, lifespan="off"))

    def watch():
        grader.join()
        server.should_exit = True
    threading.Thread(target=watch, name="grader-watch", daemon=True).start()
    base = f"http://{host}:{port}/" + (prefix.strip("/") + "/" if prefix.strip("/") else "")
    print(f"serving {course} at {base} (students' page; the class view is {base}class) with "
          f"{workers} grading workers; Ctrl-C stops", flush=True)
    try:
        server.run()
    finally:
        if grader.is_alive():
            grader.kill()
            grader.join()
    if grader.exitcode not in (0, None, -9):
        print("autograder: error: the grader process stopped, so the service stopped: see the line above, "
              "fix it and run `serve` again (accepted submissions are kept and will be graded)",
              file=sys.stderr)
        return 2
    return 0
