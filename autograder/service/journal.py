"""The service's durable queue: every accepted attempt, its state, and its one result.

An attempt is journalled (and its upload stored under its SHA-256) before the student gets a
reply, so a server killed at any moment loses no accepted submission. States go
``queued`` → ``running`` → ``done``; an attempt found ``running`` when the grader starts was
interrupted and is queued again. A result is recorded first, then projected into the gradebook,
and only then is its attempt marked done, so a student who sees a grade finds it in the gradebook;
the results table is keyed by attempt, so each attempt is recorded once.

SQLite in WAL mode with ``synchronous=FULL``: the web process and the grader process each
hold their own connection; a commit is on disk when it returns.
"""
import json
import sqlite3
import threading
import time
from pathlib import Path

from ..files import write_whole

QUEUED, RUNNING, DONE = "queued", "running", "done"
SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    student TEXT NOT NULL, assignment TEXT NOT NULL, sha256 TEXT NOT NULL,
    received_at REAL NOT NULL, state TEXT NOT NULL, runs INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS by_student ON attempts (student, assignment, received_at);
CREATE INDEX IF NOT EXISTS by_state ON attempts (state, received_at);
CREATE TABLE IF NOT EXISTS results (
    attempt_id INTEGER PRIMARY KEY REFERENCES attempts (id),
    result TEXT NOT NULL, graded_at REAL NOT NULL);
"""


def service_dir(course: Path) -> Path:
    return course / "service"


class Journal:
    """The attempts journal of one course (thread-safe within one process)."""

    def __init__(self, course: Path):
        self.folder = service_dir(course)
        (self.folder / "uploads").mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.folder / "journal.db", timeout=30, check_same_thread=False,
                                   isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _run(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def upload_path(self, sha256: str) -> Path:
        return self.folder / "uploads" / f"{sha256}.ipynb"

    def add(self, student: str, assignment: str, sha256: str, data: bytes, received_at: float) -> int:
        """Store the upload (once per content), then journal the attempt; its id."""
        path = self.upload_path(sha256)
        with self._lock:   # two students may send the same bytes at once
            if not path.is_file():
                write_whole(path, data)
            cursor = self._db.execute(
                "INSERT INTO attempts (student, assignment, sha256, received_at, state) VALUES (?,?,?,?,?)",
                (student, assignment, sha256, received_at, QUEUED))
            return cursor.lastrowid

    def received_since(self, student: str, assignment: str, since: float) -> list[float]:
        """Receipt times of the student's attempts at ``assignment`` since ``since``, oldest first."""
        rows = self._run("SELECT received_at FROM attempts WHERE student=? AND assignment=? AND "
                         "received_at>=? ORDER BY received_at", (student, assignment, since))
        return [row["received_at"] for row in rows]

    def attempt(self, attempt_id: int) -> dict | None:
        rows = self._run(_SELECT + " WHERE a.id=?", (attempt_id,))
        return _attempt(rows[0]) if rows else None

    def attempts(self, student: str | None = None, assignment: str | None = None) -> list[dict]:
        """Attempts (of one student, of one assignment), in order of receipt."""
        where, args = [], []
        for column, value in (("student", student), ("assignment", assignment)):
            if value is not None:
                where.append(f"a.{column}=?")
                args.append(value)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.received_at, a.id"
        return [_attempt(row) for row in self._run(sql, args)]

    def requeue_interrupted(self) -> int:
        """Queue again the attempts a killed grader left running without a result (those with
        one are marked done: their projection is redone at start); how many were queued."""
        with self._lock:
            done = "id IN (SELECT attempt_id FROM results)"
            self._db.execute(f"UPDATE attempts SET state=? WHERE state=? AND {done}", (DONE, RUNNING))
            return self._db.execute(f"UPDATE attempts SET state=? WHERE state=? AND NOT {done}",
                                    (QUEUED, RUNNING)).rowcount

    def queued(self, limit: int) -> list[dict]:
        rows = self._run(_SELECT + " WHERE a.state=? ORDER BY a.received_at, a.id LIMIT ?", (QUEUED, limit))
        return [_attempt(row) for row in rows]

    def start(self, attempt_id: int) -> None:
        self._run("UPDATE attempts SET state=?, runs=runs+1 WHERE id=?", (RUNNING, attempt_id))

    def requeue(self, attempt_id: int) -> None:
        self._run("UPDATE attempts SET state=? WHERE id=?", (QUEUED, attempt_id))

    def record(self, attempt_id: int, result: dict) -> None:
        """Store the attempt's one result; the attempt stays ``running`` until ``finish``."""
        self._run("INSERT INTO results (attempt_id, result, graded_at) VALUES (?,?,?)",
                  (attempt_id, json.dumps(result), time.time()))

    def finish(self, attempt_id: int) -> None:
        """Mark a recorded attempt done: students see its result from now on."""
        self._run("UPDATE attempts SET state=? WHERE id=?", (DONE, attempt_id))


_SELECT = ("SELECT a.*, r.result, r.graded_at FROM attempts a LEFT JOIN results r ON r.attempt_id = a.id")


def _attempt(row: sqlite3.Row) -> dict:
    attempt = {key: row[key] for key in ("id", "student", "assignment", "sha256", "received_at", "state",
                                         "runs", "graded_at")}
    attempt["result"] = json.loads(row["result"]) if row["result"] else None
    return attempt
