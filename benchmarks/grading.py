"""Grading throughput: `nbgrader autograde` against `python -m autograder grade`, same run.

Builds N submissions of the mixtures exercise (a realistic mix: correct, partly correct,
wrong and crashing), grades them with plain `nbgrader autograde` and with our grader (sandbox
on, default local pool), and prints both wall times, the throughput ratio, and our overhead
per submission beyond the student code's own run time (a serial run with one worker, against
the same cells executed by a bare `python` process).

    .venv/bin/python benchmarks/grading.py [--n 40] [--keep DIR]

nbgrader cannot run our probes (they need the grader), so its copies of the submissions get
one extra first cell defining a do-nothing ``probe``: both graders run the same student code
and the same test cells. Each grader's gradebook exists before its timing starts, as it does
when an instructor grades after releasing.
"""
import argparse
import copy
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.assemble import submission_cells  # noqa: E402
from autograder.notebook import grade_id, read_notebook  # noqa: E402
from autograder.sandbox import find_sandbox  # noqa: E402

NBGRADER_CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "release-nbgrader"
c.CourseDirectory.submitted_directory = "submitted-nbgrader"
c.CourseDirectory.autograded_directory = "autograded-nbgrader"
c.CourseDirectory.db_url = "sqlite:///{root}/nbgrader.db"
c.ExecutePreprocessor.timeout = 120
"""
FIXTURES = ROOT / "tests" / "fixtures" / "mixtures"


def with_answer(nb, answer_id, code):
    changed = copy.deepcopy(nb)
    for cell in changed.cells:
        if grade_id(cell) == answer_id:
            cell.source = code
    return changed


def make_class(n: int) -> list[tuple[str, object]]:
    """(student, notebook): 40% correct, 20% one plausible mistake, 20% untouched, 20% crashing."""
    source = read_notebook(ROOT / "solutions/mixtures/mixtures.ipynb")
    blank = read_notebook(ROOT / "exercises/mixtures/mixtures.ipynb")
    mistakes = sorted(FIXTURES.glob("*--*.py"))
    crashes = [("q4-answer", "import os\nos._exit(1)"), ("q3-answer", "def m_step(x, r):\n    return 1 / 0"),
               ("q5-answer", "raise RuntimeError('unfinished')")]
    kinds = ["correct", "correct", "mistake", "blank", "crash"]
    students = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "correct":
            nb = source
        elif kind == "mistake":
            case = mistakes[i % len(mistakes)]
            nb = with_answer(source, case.name.split("--")[0], case.read_text())
        elif kind == "blank":
            nb = blank
        else:
            nb = with_answer(source, *crashes[i % len(crashes)])
        students.append((f"s{i:03d}-{kind}", nb))
    return students


def nbgrader_copy(nb):
    """The same submission with a first cell that defines a do-nothing probe."""
    changed = copy.deepcopy(nb)
    changed.cells.insert(0, nbformat.v4.new_code_cell("def probe(*args, **kwargs):\n    pass"))
    return changed


def write(path: Path, nb) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")


def bare_seconds(source, nb) -> float:
    """Wall time of the submission's assembled cells in a bare python process."""
    cells = [c.source for c in submission_cells(source, nb)]
    program = ("import json, sys\nns = {'probe': lambda *a, **k: None, '__name__': '__main__'}\n"
               "for code in json.load(sys.stdin):\n    try:\n        exec(code, ns)\n"
               "    except BaseException:\n        pass\n")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-c", program], input=json.dumps(cells), text=True,
                   capture_output=True, cwd=tempfile.gettempdir())
    return time.perf_counter() - started


def timed(cmd, cwd, may_fail=False) -> tuple[float, str]:
    """(wall seconds, stderr) of a command; stop unless it succeeded or ``may_fail``."""
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 and not may_fail:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="number of submissions (default 40)")
    parser.add_argument("--keep", type=Path, help="build the course here and keep it")
    args = parser.parse_args()

    sandbox = find_sandbox()
    course = args.keep or Path(tempfile.mkdtemp(prefix="grading-bench-"))
    shutil.rmtree(course, ignore_errors=True)
    shutil.copytree(ROOT / "solutions" / "mixtures", course / "solutions" / "mixtures")
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(root=str(course)))
    students = make_class(args.n)
    bindir = Path(sys.executable).parent
    env_path = f"PATH={bindir}:" + subprocess.os.environ.get("PATH", "")
    nbgrader = ["env", env_path, str(bindir / "nbgrader")]
    ours = [sys.executable, "-m", "autograder", "grade", "mixtures", "--course", str(course)]
    # Neither timing includes making a gradebook: generate_assignment makes nbgrader's, and
    # grading the still empty class makes ours (nbgrader runs `alembic` for each, ~3 s).
    timed(nbgrader + ["generate_assignment", "mixtures", "--force"], course)
    timed(ours, course)
    for student, nb in students:
        write(course / "submitted" / student / "mixtures" / "mixtures.ipynb", nb)
        write(course / "submitted-nbgrader" / student / "mixtures" / "mixtures.ipynb", nbgrader_copy(nb))

    # nbgrader exits non-zero when a kernel dies: that is part of what is measured.
    t_nbgrader, log = timed(nbgrader + ["autograde", "mixtures", "--force"], course, may_fail=True)
    lost = log.count("Removing failed assignment")

    t_ours = timed(ours, course)[0]
    t_serial = timed(ours + ["--force", "--workers", "1"], course)[0]

    source = read_notebook(course / "solutions/mixtures/mixtures.ipynb")
    bare = [bare_seconds(source, nb) for _, nb in students]
    in_worker = [json.loads((course / "autograded" / s / "mixtures" / "autograder-result.json").read_text())
                 ["grading_seconds"] for s, _ in students]
    n = len(students)
    print(f"submissions: {n} (correct, one mistake, untouched, crashing, in the ratio 2:1:1:1); "
          f"sandbox: {'bubblewrap' if sandbox.isolated else 'OFF (' + sandbox.reason + ')'}; cores: "
          f"{subprocess.os.cpu_count()}")
    print(f"nbgrader autograde:         {t_nbgrader:7.2f} s  ({n / t_nbgrader:5.2f} submissions/s; "
          f"{lost} submissions lost to a dead kernel)")
    print(f"autograder grade (pool):    {t_ours:7.2f} s  ({n / t_ours:5.2f} submissions/s)")
    print(f"throughput ratio:           {t_nbgrader / t_ours:7.2f}x  (target >= 4x)")
    print(f"autograder grade (1 worker):{t_serial:7.2f} s")
    print(f"student code alone (bare python, mean): {1000 * statistics.mean(bare):6.0f} ms per submission")
    print(f"overhead per submission, end to end (1 worker, startup and reference run included): "
          f"{1000 * (t_serial / n - statistics.mean(bare)):6.0f} ms  (target <= 100 ms)")
    print(f"overhead per submission inside the worker (sandbox, assembly, verdict): "
          f"{1000 * (statistics.mean(in_worker) - statistics.mean(bare)):6.0f} ms")
    if not args.keep:
        shutil.rmtree(course, ignore_errors=True)


if __name__ == "__main__":
    main()
