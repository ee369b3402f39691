"""``autograder grade``: every submission of an assignment, graded in parallel, recorded once.

The trusted parent finds the submissions, runs the reference solution once for the oracle,
hands each submission to a worker (a local process pool, or an existing Dask cluster), and
records each result as it arrives: it is the only writer of the gradebook. A rerun skips
submissions whose content and reference are unchanged, so a grader killed mid-batch loses
nothing and finishes the rest. Grader faults are retried and never recorded as a zero, and
their reasons are the grader's own words (an exception's text may quote the sandbox's output).

Nothing outlives the grader or waits on it forever: local workers are killed with their
parent (``PR_SET_PDEATHSIG``; their sandboxes die with them, bwrap's ``--die-with-parent``),
and are stopped when the batch stops early; a Dask scheduler must answer within
``SCHEDULER_TIMEOUT`` seconds and finish some submission within the wall-time limit plus
``DASK_GRACE_SECONDS``, or the batch stops with one line (results recorded so far are kept).
"""
import ctypes
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass

from .autograded import write_graded_notebook
from .cli import shown
from .course import SUBMITTED_DIR, Assignment
from .errors import AutograderError
from .grade import Oracle, grade_submission, reference_oracle
from .intake import Unreadable, content_hash, find_submissions, import_submissions
from .notebook import questions, read_notebook
from .runner import Limits
from .store import FINAL, GRADED, GRADER_ERROR, KEPT, MISSING, UNGRADABLE, Store, course_lock

SCHEDULER_TIMEOUT = 20.0      # seconds a Dask scheduler has to answer
DASK_GRACE_SECONDS = 60.0     # beyond the wall-time limit, for a cluster to finish a submission
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Task:
    student: str
    data: bytes
    sha256: str
    received_at: float


@dataclass
class BatchSummary:
    results: list          # every recorded result of the assignment (or of the chosen students)
    graded_now: int        # submissions run in this batch
    unchanged: int         # skipped: already recorded with the same content
    problems: list         # one-line notes (import problems)
    seconds_late: dict     # {student: how late nbgrader considers the submission}
    not_on_roster: list    # students who handed in but were not on a non-empty roster (now added)


def _worker(source_nb, data: bytes, oracle: Oracle, limits: Limits) -> dict:
    started = time.perf_counter()
    result = grade_submission(source_nb, data, oracle, limits)
    return {**result, "grading_seconds": time.perf_counter() - started}


def _die_with(parent: int) -> None:
    """Pool initializer: the kernel kills this worker when its parent dies (SIGKILL, as the
    out-of-memory killer sends, leaves no chance to clean up)."""
    if sys.platform != "linux":  # prctl is Linux's; elsewhere workers may outlive a killed grader
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != parent:
        os._exit(1)  # cannot be tied to the parent, or it is already gone


def _local(tasks, job_args, workers):
    """(task, future) as each finishes, on a local process pool (forked, so the workers share
    the parent's imports); stopping early kills the workers and their sandboxes."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_die_with, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(_worker, *job_args(task)): task for task in tasks}
        for future in as_completed(futures):
            yield futures[future], future
    except BaseException:  # GeneratorExit included: the caller stopped before the end
        for process in list((pool._processes or {}).values()):  # no public way before Python 3.14
            process.kill()
        raise
    finally:
        pool.shutdown(cancel_futures=True)


def _connect(address: str):
    """A Dask client of the scheduler at ``address``, or one line saying why there is none.

    distributed waits for the scheduler's handshake without a time limit, so the client is
    made in a thread that the grader stops waiting for after SCHEDULER_TIMEOUT."""
    from distributed import Client
    made = {}

    def connect():
        try:
            made["client"] = Client(address, timeout=f"{SCHEDULER_TIMEOUT - 5}s")  # its own limit first
        except Exception as err:  # also what distributed raises when the grader exits meanwhile
            made["error"] = str(err).splitlines()[0] if str(err).strip() else type(err).__name__
    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    thread.join(SCHEDULER_TIMEOUT)
    if "client" in made:
        return made["client"]
    why = made.get("error", f"it accepted the connection but did not answer within {SCHEDULER_TIMEOUT:g} s")
    raise AutograderError(f"cannot reach the Dask scheduler at {address} ({why}): check the address "
                          "(tcp://host:8786) and that the scheduler is running, then rerun")


def _dask(tasks, job_args, address, stall_seconds):
    """(task, future) as each finishes, on the Dask cluster whose scheduler is at ``address``;
    one line if no submission finishes in ``stall_seconds``."""
    from distributed import wait
    with _connect(address) as client:
        futures = {client.submit(_worker, *job_args(task), pure=False): task for task in tasks}
        pending = set(futures)
        try:
            while pending:
                try:
                    done, pending = wait(pending, timeout=stall_seconds, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    raise AutograderError(
                        f"the Dask cluster at {address} finished no submission in {stall_seconds:g} s: "
                        f"check that it has workers, {KEPT}") from None
                for future in done:
                    yield futures[future], future
        finally:
            client.cancel(list(pending))


def _intake(submission, previous: dict) -> tuple[dict, bytes | None]:
    """(what is known before running anything, the notebook's bytes if it is to be graded)."""
    record = {"student": submission.student, "sha256": None, "received_at": None}
    if submission.problem:
        return {**record, "status": UNGRADABLE, "reason": submission.problem}, None
    if submission.path is None:
        return {**record, "status": MISSING, "reason": "nothing was handed in"}, None
    try:
        data = submission.read()
    except Unreadable as err:
        return {**record, "status": UNGRADABLE, "reason": str(err)}, None
    sha = content_hash(data)
    # The received time is frozen the first time this content is seen.
    received = previous["received_at"] if previous.get("sha256") == sha else submission.received_at()
    return {**record, "sha256": sha, "received_at": received}, data


def _unchanged(previous: dict, record: dict, source_sha: str) -> bool:
    """Already recorded for this very content and reference, in a final state."""
    return (previous.get("status") in FINAL and previous.get("sha256") == record["sha256"]
            and previous.get("source_sha256") == source_sha
            and record.get("status", previous["status"]) == previous["status"])


def grade_assignment(assignment: Assignment, *, from_path=None, scheduler: str | None = None,
                     workers: int | None = None, limits: Limits = Limits(), force: bool = False,
                     retries: int = 2, progress: bool = True,
                     students: list[str] | None = None) -> BatchSummary:
    """Grade every submission of ``assignment`` in its course folder (``assignment.root``),
    or only those of ``students`` (names on the roster or under ``submitted/``)."""
    source_nb = read_notebook(assignment.source)
    source_sha = hashlib.sha256(assignment.source.read_bytes()).hexdigest()
    max_score = sum(q.points for q in questions(source_nb))
    with course_lock(assignment.root):
        problems = import_submissions(from_path, assignment)[1] if from_path else []
        store = Store(assignment, source_nb)
        try:
            base = {"assignment": assignment.name, "source_sha256": source_sha, "max_score": max_score}
            tasks, unchanged = [], 0
            roster = store.roster()
            found = _chosen(find_submissions(assignment, roster), students, assignment)
            strangers = sorted(s.student for s in found if roster and s.student not in roster)
            for submission in found:
                previous = store.load(submission.student) or {}
                record, data = _intake(submission, previous)
                if not force and _unchanged(previous, record, source_sha):
                    unchanged += 1
                elif "status" in record:  # settled without running anything
                    store.record({**base, **record, "score": None})
                    write_graded_notebook(assignment, source_nb, submission.student, None)
                else:
                    tasks.append(Task(submission.student, data, record["sha256"], record["received_at"]))
            if tasks:
                _run(tasks, base, store, source_nb, limits, scheduler, workers, retries, progress)
            results = [r for r in store.results() if students is None or r["student"] in students]
            late = {r["student"]: store.seconds_late(r["student"]) for r in results}
            return BatchSummary(results, len(tasks), unchanged, problems, late, strangers)
        finally:
            store.close()


def _chosen(submissions: list, students: list[str] | None, assignment: Assignment) -> list:
    """The submissions of ``students`` (all if None); one line if a name is not in the class."""
    if students is None:
        return submissions
    unknown = sorted(set(students) - {s.student for s in submissions})
    if unknown:
        raise AutograderError(f"{assignment.name} has no student named {', '.join(unknown)}: check the "
                              "spelling (students are on the roster or under "
                              f"{assignment.root / SUBMITTED_DIR}/)")
    return [s for s in submissions if s.student in students]


def _fault(err: BaseException) -> str:
    """A grader fault in the grader's own words: never the exception's text, which may
    quote what the sandbox printed."""
    if isinstance(err, BrokenProcessPool):
        return "a grading worker process died (killed, perhaps for lack of memory)"
    if isinstance(err, AutograderError):
        return "the notebook's process failed to start"
    return f"an unexpected {type(err).__name__} in the grader"


def _run(tasks, base, store, source_nb, limits, scheduler, workers, retries, progress) -> None:
    from tqdm import tqdm
    oracle = reference_oracle(source_nb, limits)
    job_args = lambda task: (source_nb, task.data, oracle, limits)  # noqa: E731
    workers = workers or os.cpu_count() or 1
    debug = bool(os.environ.get("AUTOGRADER_DEBUG"))
    bar = tqdm(total=len(tasks), unit="submission", leave=True, disable=None if progress else True)
    log = progress and not sys.stderr.isatty()   # logs and CI get one plain line per submission
    finished = 0

    def done(student: str, what: str) -> None:
        nonlocal finished
        finished += 1
        bar.update()
        if log:
            print(f"autograder: graded {finished}/{len(tasks)}: {shown(student)} ({what})", file=sys.stderr,
                  flush=True)
    errors: dict[str, str] = {}
    pending = tasks
    try:
        for attempt in range(1, retries + 2):
            failed = []
            stream = (_dask(pending, job_args, scheduler, limits.wall_seconds + DASK_GRACE_SECONDS)
                      if scheduler else _local(pending, job_args, min(workers, len(pending))))
            with closing(stream):
                for task, future in stream:
                    try:
                        outcome = future.result()
                    except Exception as err:  # the grader's own fault: retried, never a zero
                        if debug:
                            print(f"autograder: grader fault for {task.student!r}:", file=sys.stderr)
                            traceback.print_exception(err, file=sys.stderr)
                        errors[task.student] = _fault(err)
                        failed.append(task)
                        continue
                    score = (float(sum(q["points"] for q in outcome["questions"]))
                             if outcome["status"] == GRADED else None)
                    store.record({**base, "student": task.student, "sha256": task.sha256,
                                  "received_at": task.received_at, "score": score, "attempts": attempt,
                                  "reason": outcome.get("reason", ""), **outcome})
                    write_graded_notebook(store.assignment, source_nb, task.student,
                                          task.data if outcome["status"] == GRADED else None)
                    done(task.student, f"{score:g}/{base['max_score']:g}" if score is not None else outcome["status"])
            pending = failed
            if not pending:
                break
        for task in pending:
            store.record({**base, "student": task.student, "sha256": task.sha256,
                          "received_at": task.received_at, "status": GRADER_ERROR, "score": None,
                          "attempts": retries + 1,
                          "reason": f"the grader failed {retries + 1} times ({errors[task.student]}); "
                                    "the next `autograder grade` tries again"})
            done(task.student, GRADER_ERROR)
    finally:
        bar.close()
