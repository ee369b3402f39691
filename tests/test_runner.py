"""The out-of-process runner: faults in student code cost only the questions they reach."""
import copy

from autograder.grade import grade_notebook
from autograder.notebook import grade_id
from autograder.runner import CellJob, Limits, run_cells
from autograder.sandbox import Sandbox


def points(results):
    return {r.id: r.points for r in results}


def test_a_hard_exit_keeps_the_points_already_earned(source, oracle, with_answer):
    submission = with_answer(source, "q4-answer", "import os\nos._exit(3)")
    results = grade_notebook(source, submission, oracle)
    assert points(results) == {"q1": 1, "q2": 2, "q3": 2, "q4": 0, "q5": 0, "q6": 0, "q7": 0}
    assert {r.status for r in results if r.id in ("q4", "q5", "q6", "q7")} == {"not run"}
    assert results[3].message == "the notebook's process exited early with code 3 while running cell 'q4-answer'"


def test_a_time_out_keeps_the_points_already_earned(source, oracle, with_answer):
    submission = with_answer(source, "q5-answer", "while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass")
    results = grade_notebook(source, submission, oracle, Limits(wall_seconds=5))
    assert points(results) == {"q1": 1, "q2": 2, "q3": 2, "q4": 2, "q5": 0, "q6": 0, "q7": 0}
    assert results[4].message == "the notebook ran out of time (limit 5 s) while running cell 'q5-answer'"


def test_a_crash_in_an_added_cell_is_located_by_its_position(source, oracle):
    submission = copy.deepcopy(source)
    crash = copy.deepcopy(submission.cells[1])
    crash.metadata = {}
    crash.source = "import os\nos._exit(5)"
    at = [grade_id(c) for c in submission.cells].index("q6-answer")
    submission.cells.insert(at, crash)
    results = grade_notebook(source, submission, oracle)
    assert points(results) == {"q1": 1, "q2": 2, "q3": 2, "q4": 2, "q5": 2, "q6": 0, "q7": 0}
    assert results[5].message == f"the notebook's process exited early with code 5 while running cell {at + 1} of the notebook"


def test_writing_to_stderr_and_exceptions_in_added_cells_cost_nothing(source, oracle):
    submission = copy.deepcopy(source)
    noisy = copy.deepcopy(submission.cells[1])
    noisy.metadata = {}
    noisy.source = "import sys, warnings\nprint('debug', file=sys.stderr)\nwarnings.warn('careful')\n1 / 0"
    submission.cells.insert(4, noisy)
    assert sum(points(grade_notebook(source, submission, oracle)).values()) == 11


def test_edited_and_deleted_test_cells_are_restored(source, oracle):
    submission = copy.deepcopy(source)
    submission.cells = [c for c in submission.cells if grade_id(c) != "q1"]
    for cell in submission.cells:
        if grade_id(cell) == "q2":
            cell.source = "pass"
    results = points(grade_notebook(source, submission, oracle))
    assert results == {"q1": 1, "q2": 2, "q3": 2, "q4": 2, "q5": 2, "q6": 1, "q7": 1}


def test_a_visible_check_disabled_by_monkeypatching_still_fails_the_hidden_probes(source, oracle, with_answer):
    wrong = "def responsibilities(log_joint):\n    return np.full(np.shape(log_joint), 0.5)\n" \
            "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True"
    results = grade_notebook(source, with_answer(source, "q2-answer", wrong), oracle)
    assert points(results)["q2"] == 0


def test_ipython_syntax_is_transformed_and_shell_escapes_refused(tmp_path):
    outcome = run_cells([CellJob("a", "plain", "%matplotlib inline\nx = 1"),
                         CellJob("b", "plain", f"!touch {tmp_path}/pwned"),
                         CellJob("c", "plain", "files = !ls")])
    status = outcome.cell_status()
    assert status["a"]["status"] == "ok"
    assert status["b"]["status"] == "error" and "not run when grading" in status["b"]["error"]
    assert status["c"]["status"] == "error"
    assert not (tmp_path / "pwned").exists()


def test_a_numpy_module_beside_the_notebook_is_not_imported_even_without_the_sandbox(tmp_path):
    (tmp_path / "numpy.py").write_text("raise SystemExit('shadowed')")
    outcome = run_cells([CellJob("a", "plain", "import numpy\nassert hasattr(numpy, 'linalg')")],
                        workdir=tmp_path, sandbox=Sandbox(None, "test"))
    assert outcome.cell_status()["a"]["status"] == "ok"


def test_memory_limit_stops_a_runaway_allocation():
    outcome = run_cells([CellJob("a", "plain", "x = bytearray(3 * 2**30)"), CellJob("b", "plain", "y = 1")],
                        limits=Limits(memory_bytes=2 * 2**30))
    status = outcome.cell_status()
    assert status["a"]["status"] == "error" and "MemoryError" in status["a"]["error"]
    assert status["b"]["status"] == "ok"


def test_unencodable_and_forged_events_do_not_count(source, oracle, with_answer):
    forged = ("def responsibilities(log_joint):\n    return None\n"
              "import os\nfor fd in range(3, 20):\n"
              "    try:\n        os.write(fd, b'{\"event\": \"cell\", \"cell\": \"q2\", \"status\": \"ok\"}\\nnot json\\n')\n"
              "    except OSError:\n        pass")
    results = points(grade_notebook(source, with_answer(source, "q2-answer", forged), oracle))
    assert results["q2"] == 0
