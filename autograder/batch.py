"""``autograder grade``: every submission of an assignment, graded in parallel, recorded once.

The trusted parent finds the submissions, runs the reference solution once for the oracle,
hands each submission to a worker (a local process pool, or an existing Dask cluster), and
records each result as it arrives: it is the only writer of the gradebook. A rerun skips
submissions whose content and reference are unchanged, so a grader killed mid-batch loses
nothing and finishes the rest. Grader faults are retried and never recorded as a zero.
"""
import hashlib
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from .course import Assignment
from .errors import AutograderError
from .grade import Oracle, grade_submission, reference_oracle
from .intake import Unreadable, content_hash, find_submissions, import_submissions
from .notebook import questions, read_notebook
from .runner import Limits
from .store import FINAL, GRADER_ERROR, MISSING, UNGRADABLE, Store, course_lock


@dataclass(frozen=True)
class Task:
    student: str
    data: bytes
    sha256: str
    received_at: float


@dataclass
class BatchSummary:
    results: list          # every recorded result of the assignment, by student
    graded_now: int        # submissions run in this batch
    unchanged: int         # skipped: already recorded with the same content
    problems: list         # one-line notes (import problems)


def _worker(source_nb, data: bytes, oracle: Oracle, limits: Limits) -> dict:
    started = time.perf_counter()
    result = grade_submission(source_nb, data, oracle, limits)
    return {**result, "grading_seconds": time.perf_counter() - started}


def _local(tasks, job_args, workers):
    """(task, future) as each finishes, on a local process pool."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_worker, *job_args(task)): task for task in tasks}
        for future in as_completed(futures):
            yield futures[future], future


def _dask(tasks, job_args, address):
    """(task, future) as each finishes, on the Dask cluster whose scheduler is at ``address``."""
    from distributed import Client
    from distributed import as_completed as dask_completed
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as err:
        raise AutograderError(f"cannot reach the Dask scheduler at {address} ({err})") from None
    with client:
        futures = {client.submit(_worker, *job_args(task), pure=False): task for task in tasks}
        for future in dask_completed(futures):
            yield futures[future], future


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
                     retries: int = 2, progress: bool = True) -> BatchSummary:
    """Grade every submission of ``assignment`` in its course folder (``assignment.root``)."""
    source_nb = read_notebook(assignment.source)
    source_sha = hashlib.sha256(assignment.source.read_bytes()).hexdigest()
    max_score = sum(q.points for q in questions(source_nb))
    with course_lock(assignment.root):
        problems = import_submissions(from_path, assignment)[1] if from_path else []
        store = Store(assignment, source_nb)
        try:
            base = {"assignment": assignment.name, "source_sha256": source_sha, "max_score": max_score}
            tasks, unchanged = [], 0
            for submission in find_submissions(assignment, store.roster()):
                previous = store.load(submission.student) or {}
                record, data = _intake(submission, previous)
                if not force and _unchanged(previous, record, source_sha):
                    unchanged += 1
                elif "status" in record:  # settled without running anything
                    store.record({**base, **record, "score": 0.0 if record["status"] == UNGRADABLE else None})
                else:
                    tasks.append(Task(submission.student, data, record["sha256"], record["received_at"]))
            if tasks:
                _run(tasks, base, store, source_nb, limits, scheduler, workers, retries, progress)
            return BatchSummary(store.results(), len(tasks), unchanged, problems)
        finally:
            store.close()


def _run(tasks, base, store, source_nb, limits, scheduler, workers, retries, progress) -> None:
    from tqdm import tqdm
    oracle = reference_oracle(source_nb, limits)
    job_args = lambda task: (source_nb, task.data, oracle, limits)  # noqa: E731
    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(tasks), unit="submission", disable=None if progress else True, leave=False)
    errors: dict[str, str] = {}
    pending = tasks
    for attempt in range(1, retries + 2):
        failed = []
        stream = _dask(pending, job_args, scheduler) if scheduler else _local(pending, job_args, workers)
        for task, future in stream:
            try:
                outcome = future.result()
            except Exception as err:  # the grader's own fault: retried, never a zero
                errors[task.student] = f"{type(err).__name__}: {err}".splitlines()[0][:300]
                failed.append(task)
                continue
            score = float(sum(q["points"] for q in outcome.get("questions", [])))
            store.record({**base, "student": task.student, "sha256": task.sha256,
                          "received_at": task.received_at, "score": score, "attempts": attempt,
                          "reason": outcome.get("reason", ""), **outcome})
            bar.update()
        pending = failed
        if not pending:
            break
    for task in pending:
        store.record({**base, "student": task.student, "sha256": task.sha256, "received_at": task.received_at,
                      "status": GRADER_ERROR, "score": None, "attempts": retries + 1,
                      "reason": f"the grader failed {retries + 1} times: {errors[task.student]}"})
        bar.update()
    bar.close()
