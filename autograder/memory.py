"""Memory of one submission as a whole: all the processes of its sandbox together.

``RLIMIT_AS`` (set by the child) bounds each process, so a submission that forks N processes
could still use N times that. A watcher on the trusted side therefore sums the memory of the
sandbox's whole process tree every ``POLL_SECONDS`` and kills the tree once the sum exceeds
the limit. Orphans cannot leave the tree: inside bubblewrap's PID namespace they are adopted
by the namespace's init, a child of the process the grader started. (Without the sandbox a
process that daemonises can leave it: one more reason those results say "not isolated".)

The bound that holds: every process stays below the limit (``RLIMIT_AS``), and all together
use at most the limit plus what they can allocate in one poll interval. Memory is counted as
the proportional set size (PSS: a page shared by k processes counts 1/k in each), read only
when the cheaper resident set size (RSS, never smaller) already exceeds the limit.

Where the machine offers it, the kernel enforces the bound exactly instead: with
``AUTOGRADER_CGROUP`` naming a cgroup v2 folder delegated to the grader (writable, ``memory``
in its ``cgroup.subtree_control``; e.g. a systemd unit with ``Delegate=yes``), each sandbox gets
a child cgroup there with ``memory.max`` set to the limit and no swap, and the watcher above
still runs. The grader never creates or changes any other cgroup.
"""
import functools
import itertools
import os
import signal
import threading
import time
import warnings
from pathlib import Path

_serial = itertools.count()

POLL_SECONDS = 0.1
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants that are alive now (from /proc's children lists)."""
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    queue.extend(int(child) for child in f.read().split())
            except (OSError, ValueError):
                continue
    return found


def _resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


def _proportional_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return _resident_bytes(pid)


def tree_memory(root: int, limit: int) -> int:
    """The memory used by ``root``'s process tree: its RSS while that stays within ``limit``,
    else its PSS (the sum that decides)."""
    pids = process_tree(root)
    resident = sum(_resident_bytes(pid) for pid in pids)
    return resident if resident <= limit else sum(_proportional_bytes(pid) for pid in pids)


class MemoryWatch:
    """Kills the process tree rooted at ``root`` once its memory exceeds ``limit`` bytes.

    Use as a context manager around the wait for the process; ``exceeded`` tells afterwards
    whether it had to act.
    """

    def __init__(self, root: int, limit: int):
        self.root, self.limit = root, limit
        self.exceeded = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            if tree_memory(self.root, self.limit) > self.limit:
                self.exceeded = True
                for pid in process_tree(self.root):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                return


@functools.lru_cache(maxsize=None)
def delegated_cgroup() -> Path | None:
    """The cgroup v2 folder named by AUTOGRADER_CGROUP, if the grader may give each sandbox a
    memory-limited cgroup under it; None (with a warning saying why) otherwise."""
    chosen = os.environ.get("AUTOGRADER_CGROUP")
    if not chosen:
        return None
    folder = Path(chosen)
    problem = _cgroup_problem(folder)
    if problem:
        warnings.warn(f"AUTOGRADER_CGROUP={chosen} is not used ({problem}); memory is bounded by the "
                      "grader's own watcher instead", RuntimeWarning, stacklevel=2)
        return None
    return folder


def _cgroup_problem(folder: Path) -> str:
    if not _is_cgroup2(folder):
        return "not a cgroup v2 folder"
    try:
        enabled = (folder / "cgroup.subtree_control").read_text().split()
    except OSError as err:
        return f"cannot read its cgroup.subtree_control ({err.strerror})"
    if "memory" not in enabled:
        return "its cgroup.subtree_control does not enable the memory controller"
    if not os.access(folder, os.W_OK):
        return "the grader may not create cgroups in it"
    return ""


def _is_cgroup2(folder: Path) -> bool:
    """Whether ``folder`` lies on a cgroup v2 file system (read from /proc/self/mountinfo)."""
    try:
        real = os.path.realpath(folder)
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split(" - ") for line in f]
    except OSError:
        return False
    best = ("", "")
    for left, right in (m for m in mounts if len(m) == 2):
        point, fstype = left.split()[4], right.split()[0]
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) > len(best[0]):
            best = (point, fstype)
    return best[1] == "cgroup2"


class SandboxCgroup:
    """One sandbox's child cgroup under a delegated folder: memory.max = limit, no swap."""

    def __init__(self, parent: Path, limit: int):
        self.path = parent / f"autograder-{os.getpid()}-{next(_serial)}"
        self.path.mkdir()
        (self.path / "memory.max").write_text(f"{limit}\n")
        (self.path / "memory.swap.max").write_text("0\n")

    @classmethod
    def create(cls, parent: Path | None, limit: int) -> "SandboxCgroup | None":
        """A new sandbox cgroup under ``parent``, or None without one (the watcher still bounds)."""
        try:
            return cls(parent, limit) if parent else None
        except OSError as err:
            warnings.warn(f"no cgroup for this sandbox ({err.strerror})", RuntimeWarning, stacklevel=2)
            return None

    def adopt(self, root: int) -> None:
        """Move ``root``'s process tree into the cgroup, listing it again until no process
        is new (one forked while the tree was moved is found by the next listing); children
        born later are born inside."""
        moved: set[int] = set()
        for _ in range(5):
            new = [pid for pid in process_tree(root) if pid not in moved]
            if not new:
                return
            for pid in new:
                try:
                    (self.path / "cgroup.procs").write_text(f"{pid}\n")
                except ProcessLookupError:
                    pass
            moved.update(new)

    def ran_out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the cgroup for exceeding memory.max."""
        try:
            for line in (self.path / "memory.events").read_text().splitlines():
                name, _, count = line.partition(" ")
                if name == "oom_kill" and int(count) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def remove(self) -> None:
        """Remove the cgroup once its killed processes are gone (an empty one left behind after
        a second costs nothing and is reported by no one)."""
        for _ in range(20):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)
