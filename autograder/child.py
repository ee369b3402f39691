"""The process that runs notebook code. Nothing here is trusted by the grader.

Started by ``runner.py`` as ``python -I -m autograder.child FD``. It reads a JSON job
(a list of cells) from stdin and writes one JSON line per event to file descriptor FD:

    {"event": "start"}   (sent once the child is ready, before any notebook code runs)
    {"event": "probe", "cell": ID, "name": NAME, "value": PLAIN, "rtol": R, "atol": A}
    {"event": "cell", "cell": ID, "status": "ok" | "error", "error": "Type: message",
     "error_type": "Type", "line": N}   (N: the line of the cell that was running, or null)

Values are encoded as plain JSON data: numbers, strings, booleans, None and lists as
themselves; everything else as a dict with one tag, so that no value can pass for another:
``{"__dict__": {key: value}}``, ``{"__ndarray__": nested lists, "shape": [...], "dtype": "b"|"i"|"u"|"f"}``,
``{"__complex__": real part, "imag": imaginary part}`` (each a number or an encoded array),
``{"__unencodable__": reason}``. No pickle ever crosses back.
"""
import builtins
import json
import types
import os
import resource
import sys
import traceback

MAX_EVENT_CHARS = 1_000_000
MAX_ERROR_CHARS = 2_000


def encode(value, depth=0):
    """Turn a result into plain JSON-able data, or a marker saying it cannot be."""
    if depth > 20:
        return {"__unencodable__": "nested too deeply"}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, complex):
        return {"__complex__": value.real, "imag": value.imag}
    if isinstance(value, (list, tuple)):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {"__dict__": {str(key): encode(item, depth + 1) for key, item in value.items()}}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(value, numpy.ndarray) and value.dtype.kind in "biufc":
            if value.dtype.kind == "c":
                return {"__complex__": encode(value.real, depth + 1), "imag": encode(value.imag, depth + 1)}
            return {"__ndarray__": value.tolist(), "shape": list(value.shape), "dtype": value.dtype.kind}
        if isinstance(value, numpy.generic):
            return encode(value.item(), depth + 1)
    return {"__unencodable__": type(value).__name__}


class Reporter:
    """Writes events to the grader's pipe, one JSON line each."""

    def __init__(self, fd: int):
        self.stream = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
        self.cell = None

    def send(self, event: dict) -> None:
        line = json.dumps(event)
        if len(line) > MAX_EVENT_CHARS:
            line = json.dumps({**event, "value": {"__unencodable__": "result too large"}})
        self.stream.write(line + "\n")
        self.stream.flush()

    def probe(self, name, value, rtol=1e-7, atol=1e-10):
        """Record one result for the grader to compare with the reference solution's."""
        self.send({"event": "probe", "cell": self.cell, "name": str(name),
                   "value": encode(value), "rtol": float(rtol), "atol": float(atol)})


class GraderShell:
    """Stands in for IPython's get_ipython(): harmless magics only, no shell escapes."""

    def run_line_magic(self, name, line, *args, **kwargs):
        if name in {"matplotlib", "config", "load_ext", "autoreload"}:
            return None
        raise RuntimeError(f"the magic %{name} is not available when grading")

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        raise RuntimeError(f"the cell magic %%{name} is not available when grading")

    def system(self, *args, **kwargs):
        raise RuntimeError("shell commands (!cmd) are not run when grading")

    getoutput = system


def describe(error: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return text[:MAX_ERROR_CHARS]


def failing_line(error: BaseException, filename: str) -> int | None:
    """The line of the cell's own code that was running when ``error`` was raised."""
    if isinstance(error, SyntaxError) and error.filename == filename:
        return error.lineno
    line = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == filename:
            line = lineno
    return line


def notebook_module(reporter: Reporter) -> types.ModuleType:
    """A fresh ``__main__`` for the notebook, as in a Jupyter kernel, so that functions it
    defines can be pickled by reference (multiprocessing pools, concurrent.futures)."""
    shell = GraderShell()
    module = types.ModuleType("__main__")
    module.__dict__.update({"__builtins__": builtins, "probe": reporter.probe,
                            "get_ipython": lambda: shell, "display": lambda *objects, **kwargs: None})
    sys.modules["__main__"] = module
    return module


def run(job: dict, reporter: Reporter) -> None:
    namespace = notebook_module(reporter).__dict__
    for cell in job["cells"]:
        reporter.cell = cell["id"]
        filename = f"<cell {cell['id']}>"
        try:
            exec(compile(cell["source"], filename, "exec"), namespace)
        except BaseException as error:  # student code may raise anything, SystemExit included
            reporter.send({"event": "cell", "cell": cell["id"], "status": "error",
                           "error": describe(error), "error_type": type(error).__name__,
                           "line": failing_line(error, filename)})
        else:
            reporter.send({"event": "cell", "cell": cell["id"], "status": "ok"})


def drop_privileges(uid: int | None) -> None:
    """Become the sandbox's own unprivileged user (when the grader runs as root)."""
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def limit_resources(limits: dict) -> None:
    """Lower soft and hard limits before any notebook code runs; they cannot be raised again."""
    names = {"cpu_seconds": resource.RLIMIT_CPU, "memory_bytes": resource.RLIMIT_AS,
             "file_bytes": resource.RLIMIT_FSIZE, "open_files": resource.RLIMIT_NOFILE,
             "processes": resource.RLIMIT_NPROC}
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, which in names.items():
        if limits.get(key):
            resource.setrlimit(which, (limits[key], limits[key]))


def main() -> None:
    reporter = Reporter(int(sys.argv[1]))
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    sys.stdin = open(os.devnull)
    drop_privileges(job.get("uid"))
    limit_resources(job.get("limits", {}))
    reporter.send({"event": "start"})
    run(job, reporter)


if __name__ == "__main__":
    main()
