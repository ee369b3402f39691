"""Hostile submissions, built programmatically from the mixtures exercise: exact outcomes.

Each test plants one attack in an otherwise correct (or deliberately wrong) reference
solution and asserts precisely what the grader records. Attacks covered elsewhere:
os._exit, swallowed KeyboardInterrupt, stderr noise, forged events, shell escapes and
monkeypatched np.allclose in test_runner.py; malformed, empty, v3, huge and symlinked
notebooks, `<script>` in outputs, forged timestamps, concurrent regrades and kill-and-resume
in test_grading.py.
"""
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from autograder.grade import grade_notebook
from autograder.runner import Limits
from autograder.sandbox import find_sandbox

FULL = {"q1": 1, "q2": 2, "q3": 2, "q4": 2, "q5": 2, "q6": 1, "q7": 1}
WRONG_Q2 = "def responsibilities(log_joint):\n    return np.full(np.shape(log_joint), 0.5)\n"


def scores(source, oracle, submission, limits=Limits()):
    return {r.id: r.points for r in grade_notebook(source, submission, oracle, limits)}


def processes_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


def test_the_sandbox_is_active_on_this_machine():
    """Otherwise every isolation test below would pass for the wrong reason."""
    sandbox = find_sandbox()
    assert sandbox.isolated, f"bubblewrap is not usable here: {sandbox.reason}"


def test_without_bubblewrap_the_grader_warns_and_marks_results_not_isolated(tmp_path):
    code = ("import warnings, json\nwarnings.simplefilter('always')\n"
            "from autograder.sandbox import find_sandbox\nfrom autograder.runner import run_cells, CellJob\n"
            "o = run_cells([CellJob('a', 'plain', 'x = 1')])\nprint(json.dumps([o.isolated, o.cell_status()['a']['status']]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "AUTOGRADER_BWRAP": str(tmp_path / "no-such-bwrap")})
    assert result.stdout.strip() == '[false, "ok"]', result.stderr
    assert "NOT be isolated" in result.stderr


def test_monkeypatching_numpy_testing_does_not_pass_a_wrong_answer(source, oracle, with_answer):
    hack = WRONG_Q2 + ("import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
                       "np.allclose = np.isclose = lambda *a, **k: True\n")
    assert scores(source, oracle, with_answer(source, "q2-answer", hack)) == {**FULL, "q2": 0}


def test_an_object_equal_to_everything_is_not_a_right_answer(source, oracle, with_answer):
    hack = ("class Anything:\n    def __eq__(self, other): return True\n    __ne__ = lambda s, o: False\n"
            "    def __array__(self, *a, **k): return np.zeros((3, 2)) + 0.5\n"
            "def responsibilities(log_joint):\n    return Anything()\n")
    assert scores(source, oracle, with_answer(source, "q2-answer", hack)) == {**FULL, "q2": 0}


def test_ipython_hooks_cannot_rewrite_the_test_cells(source, oracle, with_answer):
    hack = WRONG_Q2 + ("ip = get_ipython()\nip.run_cell = lambda *a, **k: None\n"
                       "ip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n")
    assert scores(source, oracle, with_answer(source, "q2-answer", hack)) == {**FULL, "q2": 0}


def test_a_segfault_keeps_the_points_already_earned(source, oracle, with_answer):
    results = grade_notebook(source, with_answer(source, "q4-answer", "import ctypes\nctypes.string_at(0)"), oracle)
    assert {r.id: r.points for r in results} == {**FULL, "q4": 0, "q5": 0, "q6": 0, "q7": 0}
    assert "SIGSEGV" in results[3].message


def test_an_uncaught_memory_blow_up_costs_only_its_question(source, oracle, with_answer, answer):
    blow_up = answer("q4-answer").replace("def fit_gmm(", "def _fit_gmm(") + (
        "\ndef fit_gmm(*args, **kwargs):\n    _hog = []\n    while True:\n        _hog.append(bytearray(2**26))\n")
    results = scores(source, oracle, with_answer(source, "q4-answer", blow_up), Limits(memory_bytes=2 * 2**30))
    assert results == {**FULL, "q4": 0}


def test_a_fork_bomb_is_contained_and_leaves_nothing_behind(source, oracle, with_answer, answer):
    token = f"forkbomb-{uuid.uuid4().hex}"
    bomb = answer("q5-answer") + (
        f"\nimport os, time\n_token = '{token}'\n"
        "while True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)\n")
    started = time.monotonic()
    results = scores(source, oracle, with_answer(source, "q5-answer", bomb), Limits(wall_seconds=8))
    assert results == {**FULL, "q5": 0, "q6": 0, "q7": 0}
    assert time.monotonic() - started < 30
    assert processes_with(token) == []


def test_a_detached_daemon_does_not_outlive_the_grading(source, oracle, with_answer, answer):
    token = f"daemon-{uuid.uuid4().hex}"
    daemon = answer("q1-answer") + (
        "\nimport subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{token}'],\n"
        "                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n")
    assert scores(source, oracle, with_answer(source, "q1-answer", daemon)) == FULL
    time.sleep(0.5)
    assert processes_with(token) == []


def test_filling_the_disk_stays_inside_the_sandbox(source, oracle, with_answer, answer, tmp_path):
    before = os.statvfs("/tmp")
    filler = answer("q1-answer") + (
        "\nimport os\n_n = 0\ntry:\n    while True:\n"
        "        with open(f'fill-{_n}.bin', 'wb') as _f:\n            _f.write(os.urandom(2**20) * 8)\n"
        "        _n += 1\nexcept OSError:\n    pass\n")
    assert scores(source, oracle, with_answer(source, "q1-answer", filler)) == FULL
    after = os.statvfs("/tmp")
    assert (before.f_bavail - after.f_bavail) * after.f_frsize < 64 * 2**20


def test_a_huge_print_costs_nothing(source, oracle, with_answer, answer):
    shout = answer("q1-answer") + "\nfor _ in range(200):\n    print('x' * 2**20)\n"
    assert scores(source, oracle, with_answer(source, "q1-answer", shout)) == FULL


def test_no_network_even_to_a_loopback_listener(source, oracle, with_answer, answer):
    received = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(15)
    port = server.getsockname()[1]

    def listen():
        try:
            conn, _ = server.accept()
            received.append(conn.recv(1024))
        except OSError:
            pass
    listener = threading.Thread(target=listen)
    listener.start()
    exfiltrate = answer("q1-answer") + (
        "\nimport socket\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hidden tests')\n"
        "except OSError:\n    pass\n")
    assert scores(source, oracle, with_answer(source, "q1-answer", exfiltrate)) == FULL
    server.close()
    listener.join()
    assert received == []


def test_hidden_tests_gradebook_and_classmates_are_invisible(course, source, with_answer, answer):
    from autograder.notebook import read_notebook
    course.submit("bob", source)
    secret_paths = [str(course.assignment.source), str(course.root / "gradebook.db"),
                    str(course.root / "submitted" / "bob" / "mixtures" / "mixtures.ipynb"),
                    str(course.root), str(Path(__file__).resolve().parent.parent / "solutions"),
                    "/etc/shadow", "/var", "/home"]
    snoop = ("import os\n_seen = [p for p in %r if os.path.exists(p)]\n" % secret_paths
             + answer("q1-answer").replace("def log_gaussian(", "def _log_gaussian(")
             + "\ndef log_gaussian(x, mean, sigma):\n"
               "    return _log_gaussian(x, mean, sigma) + len(_seen)\n")
    course.submit("mallory", with_answer(source, "q1-answer", snoop))
    course.grade()   # gradebook.db exists now and bob's result is in it
    summary = course.grade(force=True)
    results = {r["student"]: r for r in summary.results}
    assert results["mallory"]["score"] == 11   # nothing was visible, so nothing shifted the answer
    assert read_notebook(course.assignment.source) == source


def test_the_gradebook_cannot_be_rewritten_from_the_notebook(course, source, with_answer):
    db = course.root / "gradebook.db"
    course.submit("bob", source)
    course.grade()
    forge = WRONG_Q2 + (
        "import sqlite3\ntry:\n"
        f"    _db = sqlite3.connect({str(db)!r})\n"
        "    _db.execute('update grade set auto_score = 99')\n    _db.commit()\n"
        "except Exception:\n    pass\n")
    course.submit("mallory", with_answer(source, "q2-answer", forge))
    course.grade()
    with course.gradebook() as gb:
        scores_now = {s.student.id: s.score for s in gb.find_assignment("mixtures").submissions}
    assert scores_now == {"bob": 11, "mallory": 9}


def test_a_numpy_module_handed_in_beside_the_notebook_is_ignored(course, source, with_answer):
    path = course.submit("mallory", with_answer(source, "q2-answer", WRONG_Q2))
    (path.parent / "numpy.py").write_text("raise SystemExit('shadowed numpy')")
    (path.parent / "scipy").mkdir()
    (path.parent / "scipy" / "__init__.py").write_text("raise SystemExit('shadowed scipy')")
    (result,) = course.grade().results
    assert {q["id"]: q["points"] for q in result["questions"]} == {**FULL, "q2": 0}


def test_hidden_tests_read_from_memory_never_reach_the_messages(source, oracle, with_answer):
    """The hidden tests must run in the student's process, so it can find their text;
    the grader's messages are built from trusted text only, so it cannot show it."""
    leak = ("import gc\n"
            "def _hidden_text():\n"
            "    for obj in gc.get_objects():\n"
            "        if isinstance(obj, dict) and 'cells' in obj and isinstance(obj['cells'], list):\n"
            "            return ' '.join(str(c.get('source', '')) for c in obj['cells'] if isinstance(c, dict))\n"
            "    return 'not found'\n"
            "_text = _hidden_text()\n"
            "def responsibilities(log_joint):\n"
            "    raise ValueError(_text)\n")
    results = grade_notebook(source, with_answer(source, "q2-answer", leak), oracle)
    q2 = next(r for r in results if r.id == "q2")
    assert q2.points == 0
    assert "BEGIN HIDDEN TESTS" not in q2.message and "probe(" not in q2.message
    assert q2.message.endswith("raised ValueError")
