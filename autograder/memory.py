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
"""
import os
import signal
import threading

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
