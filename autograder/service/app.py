"""The service's web process: authenticate, check, store, journal, reply. Never grades.

Every route but the two static pages needs ``Authorization: Bearer <token>``. A student sees
only their own attempts; the class view is the instructor's. An upload is the notebook file
itself as the request body (no multipart, no file name: nothing the client names reaches the
file system; the upload is stored under its SHA-256). It is read with a size limit while it
streams, must be an nbgrader notebook of the assignment in the URL, and is accepted only
within the assignment's policy, judged by the server's clock at receipt. Errors are JSON
``{"error": one line}`` with 401, 403, 404, 413, 415, 422 or 429 (with ``Retry-After``).

What a student gets back is the recorded result: per question its points, status and the
grader's message (a failed visible check, how many hidden checks differ), never a probe's
source, inputs or values, and nothing the student's process printed.
"""
import math
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ..course import Assignment, assignment_names
from ..intake import content_hash
from ..notebook import MAX_NOTEBOOK_BYTES, parse_with_repairs, questions, read_notebook
from .journal import Journal
from .pages import APP_JS, CLASS_PAGE, STUDENT_PAGE, page_headers
from .policy import Policy, refusal
from .tokens import INSTRUCTOR, Tokens

PUBLIC_QUESTION_KEYS = ("id", "points", "max_points", "status", "message")


class Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def public(attempt: dict) -> dict:
    """What a student may see of an attempt."""
    view = {key: attempt[key] for key in ("id", "assignment", "received_at", "state")}
    result = attempt["result"]
    if result is not None:
        view.update(status=result["status"], score=result.get("score"), max_score=result.get("max_score"),
                    reason=result.get("reason", ""), repairs=result.get("repairs", []),
                    questions=[{k: q.get(k) for k in PUBLIC_QUESTION_KEYS} for q in result.get("questions", [])])
    return view


def visible_checks(nb) -> set[str]:
    """The visible part of each test cell: what tells one exercise from another (answer
    cells' ids are alike across exercises, q1-answer...)."""
    return {"\n".join(q.source.splitlines()[:q.visible_lines]).strip() for q in questions(nb)}


def make_app(course: Path, policies: dict[str, Policy], prefix: str = "") -> Starlette:
    """The ASGI application of the course at ``course``, under the URL path ``prefix``."""
    if prefix.strip("/"):
        return Starlette(routes=[Mount("/" + prefix.strip("/"), app=make_app(course, policies))])
    journal, tokens = Journal(course), Tokens(course)
    checks = {name: visible_checks(read_notebook(Assignment(name, course).source))
              for name in assignment_names(course)}

    def holder(request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        who = tokens.holder(token.strip()) if scheme.lower() == "bearer" else None
        if who is None:
            raise Refused(401, "no valid token: log in with the token your instructor gave you "
                               "(a revoked token no longer works)", {"WWW-Authenticate": "Bearer"})
        return who

    def student(request: Request) -> str:
        who = holder(request)
        if who == INSTRUCTOR:
            raise Refused(403, "this is the students' route: the instructor's token opens the class view")
        return who

    def policy_of(name: str) -> Policy:
        if name not in policies:
            raise Refused(404, f"no such assignment: this course has {', '.join(policies)}")
        return policies[name]

    async def me(request: Request):
        who = holder(request)
        now = time.time()
        listed = []
        for name, policy in policies.items():
            used = journal.received_since(who, name, now - policy.window_seconds)
            listed.append({"name": name, "tries": policy.tries, "window_seconds": policy.window_seconds,
                           "tries_left": max(policy.tries - len(used), 0), "due": policy.due,
                           "late_accepted": policy.late, "keep": policy.keep})
        return JSONResponse({"holder": who, "assignments": listed})

    async def submit(request: Request):
        who = student(request)
        name = request.path_params["assignment"]
        policy = policy_of(name)
        received = time.time()   # the server's clock: nothing the client sends counts
        if early := refusal(policy, journal.received_since(who, name, received - policy.window_seconds), received):
            retry = {"Retry-After": str(max(1, math.ceil(early.retry_at - received)))} if early.retry_at else {}
            raise Refused(early.status, early.message, retry)
        data = await _body(request)
        await run_in_threadpool(_check_notebook, data, name, checks)
        sha = content_hash(data)
        attempt_id = await run_in_threadpool(journal.add, who, name, sha, data, received)
        return JSONResponse(public(journal.attempt(attempt_id)), status_code=202,
                            headers={"Location": f"{request.scope.get('root_path', '')}/api/attempts/{attempt_id}"})

    async def attempts(request: Request):
        who = student(request)
        return JSONResponse({"attempts": [public(a) for a in journal.attempts(who)]})

    async def attempt(request: Request):
        who = holder(request)
        try:
            found = journal.attempt(int(request.path_params["attempt_id"]))
        except (ValueError, OverflowError):
            found = None
        if found is None:
            raise Refused(404, "no such attempt: list yours at /api/attempts")
        if who not in (found["student"], INSTRUCTOR):
            raise Refused(403, "this attempt is another student's")
        return JSONResponse(public(found))

    async def class_view(request: Request):
        if holder(request) != INSTRUCTOR:
            raise Refused(403, "the class view needs the instructor's token")
        everything = journal.attempts()
        queue = [a for a in everything if a["state"] != "done"]
        return JSONResponse({"queued": sum(a["state"] == "queued" for a in queue),
                             "running": sum(a["state"] == "running" for a in queue),
                             "attempts": [{**public(a), "student": a["student"]} for a in everything]})

    def static(text: str, media: str):
        async def endpoint(request: Request):
            return Response(text, media_type=media, headers=page_headers())
        return endpoint

    routes = [
        Route("/", static(STUDENT_PAGE, "text/html")),
        Route("/class", static(CLASS_PAGE, "text/html")),
        Route("/app.js", static(APP_JS, "text/javascript")),
        Route("/api/me", me),
        Route("/api/assignments/{assignment}/submissions", submit, methods=["POST"]),
        Route("/api/attempts", attempts),
        Route("/api/attempts/{attempt_id}", attempt),
        Route("/api/class", class_view),
    ]
    app = Starlette(routes=routes, exception_handlers={Refused: _refused, 404: _not_found, 405: _not_allowed,
                                                        Exception: _fault})
    app.state.journal = journal
    return app


async def _body(request: Request) -> bytes:
    """The request body, refused while it streams once it passes the size limit."""
    too_large = Refused(413, f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB: clear its "
                             "outputs (Edit ▸ Clear Outputs of All Cells), save, and submit again")
    if request.headers.get("content-encoding", "identity").lower() != "identity":
        raise Refused(415, "send the notebook file itself, not compressed")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_NOTEBOOK_BYTES:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_NOTEBOOK_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _check_notebook(data: bytes, name: str, checks: dict[str, set]) -> None:
    """Refuse what is not a notebook, or is plainly another exercise: none of its test cells
    is one of ``name``'s and some are another's (parsing only: nothing runs)."""
    try:
        nb, _notes = parse_with_repairs(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused(422, f"this file is not a Jupyter notebook: submit your {name}.ipynb") from None
    mine = visible_checks(nb)
    others = [other for other, wanted in checks.items() if other != name and mine & wanted]
    if others and not mine & checks[name]:
        raise Refused(422, f"this notebook is the {others[0]} exercise, not {name}: submit "
                           f"{name}.ipynb to {name}")


async def _refused(request: Request, err: Refused):
    return JSONResponse({"error": err.message}, status_code=err.status, headers=err.headers)


async def _not_found(request: Request, err):
    return JSONResponse({"error": "no such page: the student page is / and the API is under /api/"},
                        status_code=404)


async def _fault(request: Request, err):
    """The server's own fault: one line, never the exception's text."""
    return JSONResponse({"error": "the grading service had a problem with this request: try again in a "
                                  "minute, and tell your instructor if it persists"}, status_code=500)


async def _not_allowed(request: Request, err):
    return JSONResponse({"error": "this route does not take that method"}, status_code=405)

