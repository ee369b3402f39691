"""Run a list of notebook cells in a separate Python process and collect its events.

This is the trusted side. It turns IPython syntax into plain Python here (nothing is
handed to a shell), starts ``autograder.child`` in the sandbox (``sandbox.py``) with a
minimal environment and resource limits, reads its event stream as it arrives (so results
survive a later crash or time-out), bounds the memory of the whole submission
(``memory.py``) and kills the child's whole process group at the end.

Every byte of the event stream is untrusted: reading holds at most one line of
``MAX_EVENT_BYTES`` in memory, at most ``MAX_EVENT_STREAM_BYTES`` of events are kept, and an
event is kept only in the exact shape ``child.py`` writes (anything else is ignored). The
student's process can therefore lose its own points, never make the grader fail or stall.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager

from .errors import AutograderError
from .memory import MemoryWatch, SandboxCgroup, delegated_cgroup
from .sandbox import WORKDIR, Sandbox, find_sandbox

MAX_EVENT_BYTES = 1_100_000           # the child's largest event (1 MB value) and its envelope
MAX_EVENT_STREAM_BYTES = 32 * 2**20   # events kept per run; later ones are read and dropped
MAX_CAPTURED_CHARS = 20_000
MAX_ID_CHARS = 200                    # cell ids and probe names
MAX_ERROR_CHARS = 2_000
READ_CHUNK = 65536


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 120.0
    memory_bytes: int = 4 * 2**30
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    processes: int = 64             # per sandbox (it has a user id of its own)
    disk_bytes: int = 256 * 2**20   # each of the sandbox's tmpfs folders


@dataclass(frozen=True)
class CellJob:
    """One code cell to run: its id (nbgrader grade_id, or a position), role and code."""
    id: str
    role: str
    source: str


@dataclass
class RunOutcome:
    events: list = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    stderr: str = ""
    isolated: bool = False
    started: bool = False   # the child reported ready before running any notebook code
    stopped_in: str | None = None   # the cell running when the process stopped early
    memory_exceeded: bool = False   # killed: its processes together used more than the limit
    memory_limit: int = 0
    wall_limit: float = 0.0         # the wall-time limit it ran under, in seconds
    flooded: bool = False   # it wrote more events than the grader keeps

    def cell_status(self) -> dict:
        """The last reported status of each cell: {"status": ..., "error": ...}."""
        return {e["cell"]: e for e in self.events if e["event"] == "cell"}

    def probes(self) -> dict:
        """Probe events grouped by cell, then by name (the first report of a name wins)."""
        grouped: dict = {}
        for e in self.events:
            if e["event"] == "probe":
                grouped.setdefault(e["cell"], {}).setdefault(e["name"], e)
        return grouped

    def ending(self) -> str:
        """Why the process stopped, and in which cell, in words a student understands."""
        return self._why() + (f" while running {cell_name(self.stopped_in)}" if self.stopped_in else "")

    def _why(self) -> str:
        if self.timed_out:
            return f"the notebook ran out of time (limit {self.wall_limit:g} s)"
        if self.memory_exceeded:
            return (f"the notebook's processes together used more than "
                    f"{self.memory_limit / 2**30:.3g} GiB of memory and were stopped")
        if self.flooded:
            return (f"the notebook reported more than {MAX_EVENT_STREAM_BYTES // 2**20} MiB of "
                    "results; the grader read no further")
        # bwrap passes on a signal death as 128 + the signal number
        signum = -self.returncode if self.returncode and self.returncode < 0 else \
            self.returncode - 128 if self.isolated and self.returncode and self.returncode > 128 else None
        if signum in set(signal.Signals):
            return f"the notebook's process was killed by signal {signal.Signals(signum).name}"
        if self.returncode:
            return f"the notebook's process exited early with code {self.returncode}"
        return "the notebook stopped before reaching this cell"


def cell_name(cell_id: str) -> str:
    """A cell id in a student's words (ids of added cells hold their position, from 0)."""
    if cell_id.startswith(("added-", "cell-")):
        return f"cell {int(cell_id.split('-')[1]) + 1} of the notebook"
    return f"cell '{cell_id}'"


_transformer = TransformerManager()


def to_python(source: str) -> str:
    """IPython cell syntax (magics, !shell) as plain Python calls on get_ipython()."""
    try:
        return _transformer.transform_cell(source)
    except Exception:  # leave it to the child to report the syntax error
        return source


def _child_env(home: str) -> dict:
    keep = {k: os.environ[k] for k in ("LANG", "LC_ALL", "TZ") if k in os.environ}
    return {**keep, "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": home, "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "MPLCONFIGDIR": f"{home}/.matplotlib", "USER": "student",
            "LOGNAME": "student"}


def _lines(stream, max_bytes: int):
    """The complete lines of a binary stream, newline dropped; a line longer than ``max_bytes``
    is skipped whole, so memory stays below ``max_bytes`` plus one chunk."""
    pending, skipping = bytearray(), False
    for chunk in iter(lambda: stream.read(READ_CHUNK), b""):
        *complete, rest = chunk.split(b"\n")
        for piece in complete:
            if not skipping and len(pending) + len(piece) <= max_bytes:
                yield bytes(pending + piece)
            pending, skipping = bytearray(), False
        if not skipping:
            pending += rest
            if len(pending) > max_bytes:
                pending, skipping = bytearray(), True


def _is_number(value) -> bool:
    return type(value) in (int, float) and value == value and abs(value) < float("inf")


def _short_text(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS


def valid_event(event, cell_ids: frozenset) -> dict | None:
    """The event in exactly the shape child.py writes, or None (then it is ignored)."""
    if not isinstance(event, dict) or not isinstance(event.get("cell"), str) or event["cell"] not in cell_ids:
        return None
    kind = event.get("event")
    if kind == "probe" and _short_text(event.get("name")) and "value" in event \
            and all(_is_number(event.get(key)) and event[key] >= 0 for key in ("rtol", "atol")):
        return {key: event[key] for key in ("event", "cell", "name", "value", "rtol", "atol")}
    if kind == "cell" and event.get("status") in ("ok", "error"):
        line = event.get("line")
        return {"event": "cell", "cell": event["cell"], "status": event["status"],
                "error": event["error"][:MAX_ERROR_CHARS] if isinstance(event.get("error"), str) else "",
                "error_type": event["error_type"] if _short_text(event.get("error_type")) else "",
                "line": line if type(line) is int and 0 < line < 10**6 else None}
    return None


def _read_events(fd: int, outcome: RunOutcome, cell_ids: frozenset, on_event=None) -> None:
    """Parse the event stream into ``outcome``: well-formed events are kept, within budget,
    and each kept one is passed to ``on_event`` as it arrives."""
    budget = MAX_EVENT_STREAM_BYTES
    with os.fdopen(fd, "rb", buffering=0) as stream:
        for line in _lines(stream, MAX_EVENT_BYTES):
            if outcome.flooded or budget < len(line):
                outcome.flooded = True
                continue   # keep draining, so the child never blocks on a full pipe
            budget -= len(line)
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if event == {"event": "start"}:
                outcome.started = True
            elif (kept := valid_event(event, cell_ids)) is not None:
                outcome.events.append(kept)
                if on_event is not None:
                    on_event(kept)


def _keep_tail(stream, outcome: RunOutcome) -> None:
    """Drain the child's stderr (so it can never block or fill a disk), keeping the end."""
    tail = b""
    for chunk in iter(lambda: stream.read(65536), b""):
        tail = (tail + chunk)[-MAX_CAPTURED_CHARS:]
    stream.close()
    outcome.stderr = tail.decode("utf-8", errors="replace")


def run_cells(cells: list[CellJob], workdir: Path | None = None, limits: Limits = Limits(),
              sandbox: Sandbox | None = None, on_event=None) -> RunOutcome:
    """Run the cells in order in a fresh child process; never raises for student faults
    (AutograderError means the child could not even start: a fault of the grader's set-up).

    The child runs in ``sandbox`` (default: the best this machine offers). Only without
    isolation may ``workdir`` name a host folder to run in (``validate`` uses it).
    ``on_event(event)`` sees each valid event as it arrives (in a reader thread).
    """
    sandbox = sandbox or find_sandbox()
    if workdir is not None and sandbox.isolated:
        raise ValueError("a sandboxed run always starts in a fresh, empty folder")
    outcome = RunOutcome(isolated=sandbox.isolated, wall_limit=limits.wall_seconds)
    with tempfile.TemporaryDirectory(prefix="autograder-run-") as scratch:
        scratch = Path(scratch)
        home = WORKDIR if sandbox.isolated else str(scratch)
        uid = sandbox.new_uid()
        job = {"cells": [{"id": c.id, "source": to_python(c.source)} for c in cells],
               "uid": uid,
               "limits": {"cpu_seconds": int(limits.wall_seconds) + 5, "memory_bytes": limits.memory_bytes,
                          "file_bytes": limits.file_bytes, "open_files": limits.open_files,
                          "processes": limits.processes}}
        read_fd, write_fd = os.pipe()
        argv = sandbox.command([sys.executable, "-I", "-m", "autograder.child", str(write_fd)],
                               scratch, limits.disk_bytes, uid)
        cgroup = SandboxCgroup.create(delegated_cgroup(), limits.memory_bytes)
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(write_fd,), cwd=workdir or scratch, env=_child_env(home), start_new_session=True,
        )
        os.close(write_fd)
        if cgroup:  # before the job is sent, so all student code is born inside it
            cgroup.adopt(proc.pid)
        cell_ids = frozenset(c.id for c in cells)
        readers = [threading.Thread(target=_read_events, args=(read_fd, outcome, cell_ids, on_event), daemon=True),
                   threading.Thread(target=_keep_tail, args=(proc.stderr, outcome), daemon=True)]
        for reader in readers:
            reader.start()
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            with MemoryWatch(proc.pid, limits.memory_bytes) as watch:
                proc.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            outcome.timed_out = True
        finally:
            _kill_group(proc)
            proc.wait()
        outcome.memory_exceeded = watch.exceeded or bool(cgroup and cgroup.ran_out_of_memory())
        outcome.memory_limit = limits.memory_bytes
        if cgroup:
            cgroup.remove()
        outcome.returncode = None if outcome.timed_out else proc.returncode
        for reader in readers:
            reader.join(timeout=5)
    if not outcome.started:
        detail = outcome.stderr.strip().splitlines()[-1:] or [outcome.ending()]
        raise AutograderError(f"the grading process failed to start: {detail[0][:300]}")
    reported = outcome.cell_status()
    outcome.stopped_in = next((c.id for c in cells if c.id not in reported), None)
    return outcome


def _kill_group(proc: subprocess.Popen) -> None:
    """Nothing the notebook started may outlive it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
