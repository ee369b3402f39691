"""The service's grader process: the single writer of results and of the gradebook.

It holds the course's grading lock (so a batch ``grade`` waits for it), queues again what a
killed grader left running, and then loops: queued attempts, oldest first, go to a pool of
worker processes that run the batch grader's own worker (sandbox, limits, verdict outside the
student's process). Each finished attempt is recorded in the journal once, and then the
attempt the policy keeps (``last`` or ``best``) is written where nbgrader and the batch grader
look: ``submitted/<student>/<assignment>/`` (its modification time the server's receipt
time) and the gradebook with its result file; only then is the attempt marked done, so the
grade a student is shown is already in the gradebook. That projection is idempotent, and it is
redone for every student at start, so a grader killed between the steps leaves nothing half done.

A worker that dies (killed, out of memory) breaks the pool: the pool is made again and the
attempts in flight are queued again; an attempt that breaks it ``MAX_RUNS`` times is recorded
as a grader error, never as a zero.
"""
import hashlib
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..autograded import write_graded_notebook
from ..batch import _die_with, _fault, _worker
from ..course import SUBMITTED_DIR, Assignment, assignment_names
from ..files import write_whole
from ..grade import reference_oracle
from ..notebook import questions, read_notebook
from ..runner import Limits
from ..store import GRADED, GRADER_ERROR, Store, course_lock
from .journal import Journal
from .policy import Policy

MAX_RUNS = 3
POLL_SECONDS = 0.1


class Assignments:
    """Per assignment: the source, its oracle (computed once) and its gradebook store."""

    def __init__(self, course: Path, limits: Limits):
        self.course, self.limits, self._cache = course, limits, {}

    def get(self, name: str):
        if name not in self._cache:
            assignment = Assignment(name, self.course)
            source = read_notebook(assignment.source)
            base = {"assignment": name, "max_score": sum(q.points for q in questions(source)),
                    "source_sha256": hashlib.sha256(assignment.source.read_bytes()).hexdigest()}
            self._cache[name] = (assignment, source, reference_oracle(source, self.limits),
                                 Store(assignment, source), base)
        return self._cache[name]

    def close(self) -> None:
        for *_, store, _base in self._cache.values():
            store.close()


def kept(attempts: list[dict], keep: str) -> dict | None:
    """The attempt that counts: the last graded one, or the best (latest among equals);
    with none graded, the last finished one."""
    done = [a for a in attempts if a["result"] is not None]
    graded = [a for a in done if a["result"]["status"] == GRADED]
    if not graded:
        return done[-1] if done else None
    if keep == "best":
        return max(reversed(graded), key=lambda a: a["result"]["score"])
    return graded[-1]


def project(journal: Journal, assignments: Assignments, student: str, name: str, keep: str) -> None:
    """Write the kept attempt of ``student`` at ``name`` into nbgrader's layout and gradebook."""
    attempt = kept(journal.attempts(student, name), keep)
    if attempt is None:
        return
    assignment, source, _oracle, store, _base = assignments.get(name)
    recorded = store.load(student) or {}
    result = attempt["result"]
    if recorded.get("sha256") == attempt["sha256"] and recorded.get("service_attempt") == attempt["id"]:
        return
    folder = assignment.student_dir(SUBMITTED_DIR, student)
    folder.mkdir(parents=True, exist_ok=True)
    data = journal.upload_path(attempt["sha256"]).read_bytes()
    write_whole(folder / assignment.notebook_name, data, mtime=attempt["received_at"])
    store.record({**result, "service_attempt": attempt["id"]})
    write_graded_notebook(assignment, source, student, data if result["status"] == GRADED else None)


def _record(journal, assignments, attempt, outcome: dict) -> None:
    _assignment, _source, _oracle, _store, base = assignments.get(attempt["assignment"])
    score = float(sum(q["points"] for q in outcome["questions"])) if outcome["status"] == GRADED else None
    journal.record(attempt["id"], {**base, "student": attempt["student"], "sha256": attempt["sha256"],
                                   "received_at": attempt["received_at"], "score": score,
                                   "attempts": attempt["runs"] + 1, "reason": outcome.get("reason", ""),
                                   **outcome})


def _publish(journal, assignments, attempt, policies) -> None:
    """Project the recorded attempt into the gradebook, then show its result to the student."""
    project(journal, assignments, attempt["student"], attempt["assignment"], policies[attempt["assignment"]].keep)
    journal.finish(attempt["id"])


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_die_with, initargs=(os.getpid(),))


def run(course: Path, policies: dict[str, Policy], workers: int, limits: Limits,
        stop=lambda: False) -> None:
    """Grade queued attempts until ``stop()`` is true."""
    with course_lock(course):
        journal, assignments = Journal(course), Assignments(course, limits)
        try:
            journal.requeue_interrupted()
            for name in assignment_names(course):
                for student in sorted({a["student"] for a in journal.attempts(assignment=name)}):
                    project(journal, assignments, student, name, policies[name].keep)
            _loop(journal, assignments, policies, workers, limits, stop)
        finally:
            assignments.close()
            journal.close()


def _loop(journal, assignments, policies, workers, limits, stop) -> None:
    pool, running = _pool(workers), {}
    try:
        while not stop():
            for attempt in journal.queued(workers - len(running)) if len(running) < workers else []:
                _assignment, source, oracle, _store, _base = assignments.get(attempt["assignment"])
                data = journal.upload_path(attempt["sha256"]).read_bytes()
                journal.start(attempt["id"])
                running[pool.submit(_worker, source, data, oracle, limits)] = attempt
            if not running:
                time.sleep(POLL_SECONDS)
                continue
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                attempt = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as err:  # the grader's own fault: queued again, never a zero
                    broken = broken or isinstance(err, BrokenProcessPool)
                    _retry(journal, assignments, attempt, _fault(err))
                    continue
                _record(journal, assignments, attempt, outcome)
                _publish(journal, assignments, attempt, policies)
            if broken:
                for attempt in running.values():
                    _retry(journal, assignments, attempt, _fault(BrokenProcessPool()))
                running.clear()
                pool.shutdown(cancel_futures=True)
                pool = _pool(workers)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _retry(journal, assignments, attempt, why: str) -> None:
    """Queue the attempt again, or record a grader error after MAX_RUNS runs."""
    attempt = journal.attempt(attempt["id"])
    if attempt["runs"] < MAX_RUNS:
        journal.requeue(attempt["id"])
        return
    _assignment, _source, _oracle, _store, base = assignments.get(attempt["assignment"])
    journal.record(attempt["id"], {**base, "student": attempt["student"], "sha256": attempt["sha256"],
                                   "received_at": attempt["received_at"], "score": None,
                                   "status": GRADER_ERROR, "attempts": attempt["runs"], "questions": [],
                                   "reason": f"the grader failed {attempt['runs']} times ({why}); "
                                             "submit again later or tell your instructor"})
    journal.finish(attempt["id"])
