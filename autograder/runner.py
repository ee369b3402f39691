"""Run a list of notebook cells in a separate Python process and collect its events.

This is the trusted side. It turns IPython syntax into plain Python here (nothing is
handed to a shell), starts ``autograder.child`` in the sandbox (``sandbox.py``) with a
minimal environment and resource limits, reads its event stream as it arrives (so results
survive a later crash or time-out) and kills the child's whole process group at the end.
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
from .sandbox import WORKDIR, Sandbox, find_sandbox

MAX_EVENT_STREAM_CHARS = 20_000_000
MAX_CAPTURED_CHARS = 20_000
KNOWN_EVENTS = {"probe", "cell"}


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
        return self._why() + (f" while running {_cell_name(self.stopped_in)}" if self.stopped_in else "")

    def _why(self) -> str:
        if self.timed_out:
            return "the notebook ran out of time"
        # bwrap passes on a signal death as 128 + the signal number
        signum = -self.returncode if self.returncode and self.returncode < 0 else \
            self.returncode - 128 if self.isolated and self.returncode and self.returncode > 128 else None
        if signum in set(signal.Signals):
            return f"the notebook's process was killed by signal {signal.Signals(signum).name}"
        if self.returncode:
            return f"the notebook's process exited early with code {self.returncode}"
        return "the notebook stopped before reaching this cell"


def _cell_name(cell_id: str) -> str:
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


def _read_events(fd: int, outcome: RunOutcome) -> None:
    """Parse the event stream; lines that are not well-formed events are ignored."""
    budget = MAX_EVENT_STREAM_CHARS
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as stream:
        for line in stream:
            budget -= len(line)
            if budget < 0:
                break
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event == {"event": "start"}:
                outcome.started = True
            elif isinstance(event, dict) and event.get("event") in KNOWN_EVENTS \
                    and isinstance(event.get("cell"), str):
                outcome.events.append(event)


def _keep_tail(stream, outcome: RunOutcome) -> None:
    """Drain the child's stderr (so it can never block or fill a disk), keeping the end."""
    tail = b""
    for chunk in iter(lambda: stream.read(65536), b""):
        tail = (tail + chunk)[-MAX_CAPTURED_CHARS:]
    stream.close()
    outcome.stderr = tail.decode("utf-8", errors="replace")


def run_cells(cells: list[CellJob], workdir: Path | None = None, limits: Limits = Limits(),
              sandbox: Sandbox | None = None) -> RunOutcome:
    """Run the cells in order in a fresh child process; never raises for student faults
    (AutograderError means the child could not even start: a fault of the grader's set-up).

    The child runs in ``sandbox`` (default: the best this machine offers). Only without
    isolation may ``workdir`` name a host folder to run in (``validate`` uses it).
    """
    sandbox = sandbox or find_sandbox()
    if workdir is not None and sandbox.isolated:
        raise ValueError("a sandboxed run always starts in a fresh, empty folder")
    outcome = RunOutcome(isolated=sandbox.isolated)
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
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(write_fd,), cwd=workdir or scratch, env=_child_env(home), start_new_session=True,
        )
        os.close(write_fd)
        readers = [threading.Thread(target=_read_events, args=(read_fd, outcome), daemon=True),
                   threading.Thread(target=_keep_tail, args=(proc.stderr, outcome), daemon=True)]
        for reader in readers:
            reader.start()
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            proc.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            outcome.timed_out = True
        finally:
            _kill_group(proc)
            proc.wait()
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
