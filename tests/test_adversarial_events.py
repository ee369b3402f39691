"""The trusted side trusts nothing that comes out of the sandbox: exact outcomes per class.

The student's process can write anything to the grader's event pipe (its file descriptor is
in ``sys.argv[1]``) and can use as much memory as its limits allow. Each test plants one class
of such behaviour in the mixtures reference solution and asserts what the grader records.
"""
import json
import os
import subprocess
import sys
import time
import uuid

import numpy as np
from hypothesis import given, settings, strategies as st

from autograder.child import encode
from autograder.grade import grade_notebook
from autograder.runner import MAX_EVENT_STREAM_BYTES, Limits, _lines, valid_event
from autograder.values import Difference, compare, decode, summarise

from test_adversarial import FULL, processes_with

LEAK = "HIDDEN-TESTS-LEAK"
FORGE = "import os as _os, sys as _sys\n_fd = int(_sys.argv[1])\n"


def write_lines(*events) -> str:
    """Code that writes each event (a JSON text, or raw bytes) as one line to the pipe."""
    return "".join(f"_os.write(_fd, {e if isinstance(e, bytes) else e.encode()!r} + b'\\n')\n" for e in events)


def points(results) -> dict:
    return {r.id: r.points for r in results}


def test_malformed_forged_and_contradictory_events_cost_only_points(course, source, with_answer, answer):
    """Forged probes for q1's hidden names, with values that merely look encoded, are wrong
    values; every other malformed event is ignored; the submission ends graded."""
    forged = FORGE + write_lines(
        # q1's three hidden probes, forged before the test cell runs (the first report wins):
        json.dumps({"event": "probe", "cell": "q1", "name": "values", "rtol": 1, "atol": 1,
                    "value": {"__ndarray__": [1.0, 2.0, 3.0], "shape": [5], "dtype": "f"}}),
        '{"event": "probe", "cell": "q1", "name": "broadcast", "rtol": 1, "atol": 1, "value": 1' + "0" * 400 + "}",
        json.dumps({"event": "probe", "cell": "q1", "name": "far-tail", "rtol": 1, "atol": 1,
                    "value": {"__ndarray__": LEAK, "shape": [2], "dtype": "f"}}),
        # ignored: no value, a list as a name, no status, an unknown status, mistyped fields
        json.dumps({"event": "probe", "cell": "q2", "name": "three-classes", "rtol": 1e-7, "atol": 0}),
        json.dumps({"event": "probe", "cell": "q2", "name": ["underflow"], "value": 1, "rtol": 0, "atol": 0}),
        json.dumps({"event": "probe", "cell": "q2", "name": "one-class", "value": 1, "rtol": "x", "atol": 0}),
        json.dumps({"event": "cell", "cell": "q3"}),
        json.dumps({"event": "cell", "cell": "q3", "status": LEAK}),
        json.dumps({"event": "cell", "cell": ["q4"], "status": "ok"}),
        json.dumps({"event": "cell", "cell": "no-such-cell", "status": "error", "error_type": LEAK}),
        json.dumps([{"event": "cell"}]), "null", "NaN", "{", b"\xff\xfe not utf-8",
        "[" * 100_000 + "]" * 100_000,            # deeper than any JSON parser recurses
        "x" * 3_000_000,                          # longer than any event
    ) + answer("q1-answer")
    course.submit("mallory", with_answer(source, "q1-answer", forged))
    (result,) = course.grade().results
    assert (result["status"], result["attempts"], result["score"]) == ("graded", 1, 10)
    q1 = result["questions"][0]
    assert {q["id"]: q["points"] for q in result["questions"]} == {**FULL, "q1": 0}
    assert q1["message"] == (
        "3 of 3 hidden checks differ from the reference solution: 3 gave a result the grader cannot "
        "read (an object that is not a number, string, list, dict or numpy array)")
    assert course.cli("feedback", "mixtures").returncode == 0
    page = (course.root / "feedback" / "mallory" / "mixtures" / "mixtures.html").read_text()
    assert LEAK not in page and LEAK not in json.dumps(result)


def test_contradictory_reports_of_a_cell_keep_the_last(source, oracle, with_answer, answer):
    """A forged "ok" for a test cell that then fails does not pass it."""
    wrong_q2 = "def responsibilities(log_joint):\n    return np.full(np.shape(log_joint), 0.5)\n"
    forged = FORGE + write_lines(json.dumps({"event": "cell", "cell": "q2", "status": "ok"})) + wrong_q2
    results = grade_notebook(source, with_answer(source, "q2-answer", forged), oracle)
    assert points(results) == {**FULL, "q2": 0}
    assert results[1].message == ("check failed: for joint probabilities [0.2, 0.6] expected "
                                  "[0.25, 0.75], got …")


MEMORY_PROBE = """
import json, resource, sys
from autograder.runner import CellJob, run_cells
flood = sys.argv[1]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = run_cells([CellJob("a", "answer", flood), CellJob("b", "answer", "x = 1")])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_kib": after - before, "statuses": sorted(outcome.cell_status()),
                  "flooded": outcome.flooded, "ending": outcome.ending()}))
"""


def test_a_flood_on_the_event_pipe_does_not_grow_the_grader():
    """1 GiB without a newline, then 1 GiB of well-formed lines: the reading process stays small."""
    flood = FORGE + (
        "_chunk = b'x' * 2**26\nfor _ in range(16):\n    _os.write(_fd, _chunk)\n"
        "_line = b'{\"event\": \"noise\", \"cell\": \"a\"}' + b' ' * 990 + b'\\n'\n"
        "_many = _line * 2**16\nfor _ in range(16):\n    _os.write(_fd, _many)\n")
    run = subprocess.run([sys.executable, "-c", MEMORY_PROBE, flood], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["grew_kib"] < 100 * 1024, report   # the stream held at most one line and the budget
    assert report["flooded"] and report["statuses"] == []
    assert report["ending"] == (f"the notebook reported more than {MAX_EVENT_STREAM_BYTES // 2**20} MiB of "
                                "results; the grader read no further while running cell 'a'")


def test_memory_is_bounded_for_all_processes_of_a_submission_together(source, oracle, with_answer, answer):
    """Three forked processes of 1 GiB each stay under a 2 GiB per-process limit, but not
    together: the whole sandbox is stopped, and the points already earned are kept."""
    token = f"memory-{uuid.uuid4().hex}"
    hog = answer("q4-answer") + (
        f"\nimport os, time\n_token = '{token}'\n_kids = []\n"
        "for _ in range(3):\n"
        "    _pid = os.fork()\n"
        "    if _pid == 0:\n"
        "        _block = b'\\x01' * 2**30\n"
        "        time.sleep(300)\n"
        "        os._exit(0)\n"
        "    _kids.append(_pid)\n"
        "time.sleep(300)\n")
    started = time.monotonic()
    results = grade_notebook(source, with_answer(source, "q4-answer", hog), oracle,
                             Limits(memory_bytes=2 * 2**30, wall_seconds=120))
    assert time.monotonic() - started < 60   # stopped for its memory, long before its time-out
    assert points(results) == {**FULL, "q4": 0, "q5": 0, "q6": 0, "q7": 0}
    assert results[3].message == ("the notebook's processes together used more than 2 GiB of memory "
                                  "and were stopped while running cell 'q4-answer'")
    assert processes_with(token) == []


def test_a_wrong_shape_or_type_is_named_without_values(source, oracle, with_answer, answer):
    """A 1-element array for a scalar, and complex numbers for real ones, pass the visible
    checks; the hidden checks say what kind of difference it is, never the values."""
    reference = answer("q5-answer").replace("def outlier_log_likelihood(", "def _reference(")
    as_array = reference + "\ndef outlier_log_likelihood(*args):\n    return np.array([_reference(*args)])\n"
    as_complex = reference + "\ndef outlier_log_likelihood(*args):\n    return complex(_reference(*args))\n"
    shaped = grade_notebook(source, with_answer(source, "q5-answer", as_array), oracle)
    typed = grade_notebook(source, with_answer(source, "q5-answer", as_complex), oracle)
    assert points(shaped) == points(typed) == {**FULL, "q5": 0}
    assert shaped[4].message == ("4 of 4 hidden checks differ from the reference solution: 4 gave a result "
                                 "of another shape or length (an array where the reference gives a single number)")
    assert typed[4].message == ("4 of 4 hidden checks differ from the reference solution: 4 gave a result "
                                "of another type (complex numbers where the reference gives real numbers)")


# Properties over arbitrary data: nothing the sandbox can send makes the trusted side raise.

KEYS = ["__ndarray__", "shape", "dtype", "__complex__", "imag", "__dict__", "__unencodable__", "event",
        "cell", "name", "value", "rtol", "atol", "status", "line", "error", "error_type"]
WORDS = ["probe", "cell", "ok", "error", "f", "i", "b", "u", "c", "q1", "start"]
json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(WORDS) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6),
                                                                inner, max_size=6),
    max_leaves=40)
REFERENCE_VALUES = [1.5, 3, True, None, "text", 2 + 1j, [1.0, 2.0], [[1.0], [2.0, 3.0]], {"a": 1.0},
                    np.arange(6.0).reshape(2, 3), np.array([1 + 2j]), np.array([True, False]), [1.0, "a"]]


@settings(max_examples=400, deadline=None)
@given(json_data)
def test_no_value_from_the_sandbox_makes_the_verdict_raise(value):
    for reference in REFERENCE_VALUES:
        difference = compare(decode(encode(reference)), decode(value), 1e-7, 1e-10)
        assert difference is None or isinstance(difference, Difference)
        if difference:
            assert summarise([difference], 1).startswith("1 of 1 hidden checks differ")


@settings(max_examples=400, deadline=None)
@given(json_data)
def test_no_event_from_the_sandbox_makes_the_reader_raise(event):
    kept = valid_event(event, frozenset({"q1", "ok"}))
    assert kept is None or kept["event"] in ("probe", "cell") and kept["cell"] in ("q1", "ok")


def test_every_reference_value_matches_itself():
    for reference in REFERENCE_VALUES:
        assert compare(decode(encode(reference)), decode(encode(reference)), 1e-7, 1e-10) is None, reference


class Chunks:
    def __init__(self, chunks):
        self.chunks = list(chunks)

    def read(self, _size):
        return self.chunks.pop(0) if self.chunks else b""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40) | st.sampled_from([b"\n", b"ab\ncd", b"\n\n"]), max_size=20))
def test_the_reader_yields_exactly_the_lines_that_fit(chunks):
    whole = b"".join(chunks)
    expected = [line for line in whole.split(b"\n")[:-1] if len(line) <= 10]
    assert list(_lines(Chunks(c for c in chunks if c), 10)) == expected


def test_a_folder_that_is_not_a_delegated_cgroup_is_refused_with_a_warning(tmp_path):
    """These machines offer no delegated cgroup v2 memory controller: the watcher alone bounds."""
    code = ("import warnings, json\nwarnings.simplefilter('always')\n"
            "from autograder.memory import delegated_cgroup\nprint(json.dumps(str(delegated_cgroup())))")
    for folder in (tmp_path, "/sys/fs/cgroup"):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "AUTOGRADER_CGROUP": str(folder)})
        assert run.stdout.strip() == '"None"', run.stderr
        assert f"AUTOGRADER_CGROUP={folder} is not used (" in run.stderr
    unset = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_CGROUP"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=unset)
    assert (run.stdout.strip(), run.stderr) == ('"None"', "")


def test_a_sandbox_cgroup_writes_the_kernel_interface_files(tmp_path):
    """The cgroup v2 protocol (on a plain folder standing in for the delegated one): the limit
    and no swap are set, the sandbox's processes are moved in, an OOM kill is read back."""
    from autograder.memory import SandboxCgroup
    cgroup = SandboxCgroup.create(tmp_path, 3 * 2**30)
    assert cgroup.path.parent == tmp_path
    assert (cgroup.path / "memory.max").read_text() == f"{3 * 2**30}\n"
    assert (cgroup.path / "memory.swap.max").read_text() == "0\n"
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        cgroup.adopt(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (cgroup.path / "cgroup.procs").read_text() == f"{sleeper.pid}\n"
    assert not cgroup.ran_out_of_memory()
    (cgroup.path / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    assert cgroup.ran_out_of_memory()
    assert SandboxCgroup.create(None, 2**30) is None
