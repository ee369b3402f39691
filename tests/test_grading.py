"""`autograder grade | feedback | report` on a whole class: states, gradebook, reruns, scale.

Every test builds a throw-away course folder (the `course` fixture in conftest.py) holding
the mixtures exercise, hands in submissions programmatically, and asserts exact outcomes.
"""
import copy
import csv
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta, timezone

import nbformat
import pytest

from autograder.notebook import read_notebook

FULL = {"q1": 1, "q2": 2, "q3": 2, "q4": 2, "q5": 2, "q6": 1, "q7": 1}
ZERO = dict.fromkeys(FULL, 0)


@pytest.fixture(scope="module")
def release(repo_root):
    return read_notebook(repo_root / "exercises" / "mixtures" / "mixtures.ipynb")


def by_student(summary) -> dict:
    return {r["student"]: r for r in summary.results}


def points(result) -> dict:
    return {q["id"]: q["points"] for q in result["questions"]}


def gradebook_scores(course) -> dict:
    with course.gradebook() as gb:
        return {s.student.id: s.score for s in gb.find_assignment("mixtures").submissions}


def test_a_class_ends_with_every_submission_in_a_recorded_state(course, source, release, with_answer):
    course.submit("alice", source)
    course.submit("bob", release)
    course.submit("carol", "{ this is not json")
    course.submit("dan", b"")
    course.submit("erin", nbformat.writes(copy.deepcopy(source), version=3))  # an old v3 notebook
    course.submit("zoë-ßtudent", source)                               # unicode name
    huge = copy.deepcopy(source)
    huge.cells[1].outputs = [nbformat.v4.new_output("stream", text="x" * 20_000_000)]
    course.submit("frank", huge)                                        # a 20 MB output
    r_kernel = copy.deepcopy(source)
    r_kernel.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    course.submit("grace", r_kernel)                                    # changed kernelspec
    course.submit("heidi", with_answer(source, "q3-answer", "def m_step(:"))  # syntax error
    with course.gradebook() as gb:
        gb.update_or_create_student("ivan")                             # on the roster, no work

    summary = course.grade()
    results = by_student(summary)
    assert {s: r["status"] for s, r in results.items()} == {
        "alice": "graded", "bob": "graded", "carol": "ungradable", "dan": "ungradable",
        "erin": "graded", "zoë-ßtudent": "graded", "frank": "graded", "grace": "graded",
        "heidi": "graded", "ivan": "missing"}
    for student in ("alice", "erin", "zoë-ßtudent", "frank", "grace"):
        assert points(results[student]) == FULL, student
    assert points(results["bob"]) == ZERO
    assert points(results["heidi"]) == {**FULL, "q3": 0}
    assert "SyntaxError" in next(q["message"] for q in results["heidi"]["questions"] if q["id"] == "q3")
    assert "invalid JSON" in results["carol"]["reason"]
    assert "empty" in results["dan"]["reason"]
    assert results["ivan"]["score"] is None and results["carol"]["score"] is None
    assert all(r["isolated"] for r in results.values() if r["status"] == "graded")
    # nbgrader's gradebook holds the same scores; missing and ungradable work has no grades.
    assert gradebook_scores(course) == {"alice": 11, "bob": 0, "erin": 11,
                                        "zoë-ßtudent": 11, "frank": 11, "grace": 11, "heidi": 9}


def test_nbgrader_export_reads_our_gradebook(course, source):
    course.submit("alice", source)
    course.grade()
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "export",
                             "--db", course.assignment.gradebook_url, "--to", "grades.csv"],
                            cwd=course.root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(course.root / "grades.csv", encoding="utf-8")))
    assert [(r["student_id"], float(r["score"]), float(r["max_score"])) for r in rows] == [("alice", 11, 11)]


def test_regrading_is_idempotent_and_only_changed_work_is_rerun(course, source, release, with_answer):
    course.submit("alice", source)
    course.submit("bob", release)
    first = course.grade()
    assert first.graded_now == 2
    again = course.grade()
    assert (again.graded_now, again.unchanged) == (0, 2)
    assert [{k: v for k, v in r.items() if k != "recorded_at"} for r in again.results] == \
        [{k: v for k, v in r.items() if k != "recorded_at"} for r in first.results]

    course.submit("bob", with_answer(release, "q1-answer", source.cells[3].source))  # bob resubmits
    third = course.grade()
    assert (third.graded_now, third.unchanged) == (1, 1)
    assert by_student(third)["bob"]["score"] == 1
    assert gradebook_scores(course) == {"alice": 11, "bob": 1}
    assert course.grade(force=True).graded_now == 2


def test_imports_from_a_zip_named_by_student_skip_unsafe_entries(course, source, tmp_path):
    archive = tmp_path / "lms-export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("alice.ipynb", nbformat.writes(source))
        zf.writestr("bob/submission.ipynb", nbformat.writes(source))
        zf.writestr("../escape.ipynb", nbformat.writes(source))
        link = zipfile.ZipInfo("mallory.ipynb")
        link.external_attr = 0o120777 << 16                       # a symbolic link entry
        zf.writestr(link, "/etc/passwd")
        zf.writestr("notes.txt", "not a notebook")
    summary = course.grade(from_path=archive)
    assert {r["student"]: r["status"] for r in summary.results} == {"alice": "graded", "bob": "graded"}
    assert any("mallory" in p and "symbolic link" in p for p in summary.problems)
    assert any("'..'" in p for p in summary.problems)
    assert not (course.root / "escape.ipynb").exists() and not (course.root.parent / "escape.ipynb").exists()
    assert sorted(p.name for p in (course.root / "submitted").iterdir()) == ["alice", "bob"]


def test_imports_from_a_folder(course, source, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "alice.ipynb").write_text(nbformat.writes(source))
    os.symlink(course.assignment.source, inbox / "mallory.ipynb")
    result = course.cli("grade", "mixtures", "--from", str(inbox))
    assert result.returncode == 0, result.stderr
    assert "alice    graded" in result.stdout and "mallory: is a symbolic link" in result.stdout


def test_lateness_uses_the_time_the_grader_received_the_file(course, source):
    due = datetime(2026, 3, 1, 12, 0)
    with course.gradebook() as gb:
        gb.update_or_create_assignment("mixtures", duedate=due)
    on_time = course.submit("alice", source)
    late = course.submit("bob", source)
    (late.parent / "timestamp.txt").write_text("2026-02-01 00:00:00.000000 UTC")  # a forged claim
    to_epoch = lambda dt: dt.replace(tzinfo=timezone.utc).timestamp()  # noqa: E731
    os.utime(on_time, (to_epoch(due - timedelta(hours=1)),) * 2)
    os.utime(late, (to_epoch(due + timedelta(hours=5)),) * 2)
    course.grade()
    with course.gradebook() as gb:
        assert gb.find_submission("mixtures", "alice").total_seconds_late == 0
        assert gb.find_submission("mixtures", "bob").total_seconds_late == pytest.approx(5 * 3600)
    # Touching the file afterwards does not move the time it was received.
    os.utime(late, (to_epoch(due - timedelta(days=3)),) * 2)
    course.grade(force=True)
    with course.gradebook() as gb:
        assert gb.find_submission("mixtures", "bob").total_seconds_late == pytest.approx(5 * 3600)


def crash_once_then_work(source_nb, data, oracle, limits):
    """A worker that dies (as if OOM-killed) the first time it meets Bob's notebook."""
    from autograder import batch
    marker = os.environ["CRASH_MARKER"]
    if b"bob-marker" in data and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(9)
    return batch.__dict__["_real_worker"](source_nb, data, oracle, limits)


def always_fail(source_nb, data, oracle, limits):
    raise RuntimeError("sandbox unavailable")


def tagged(nb, text):
    tagged_nb = copy.deepcopy(nb)
    tagged_nb.metadata["tag"] = text
    return tagged_nb


def test_grader_faults_are_retried_and_never_recorded_as_zero(course, source, monkeypatch, tmp_path):
    from autograder import batch
    course.submit("alice", source)
    course.submit("bob", tagged(source, "bob-marker"))
    monkeypatch.setenv("CRASH_MARKER", str(tmp_path / "crashed"))
    monkeypatch.setattr(batch, "_real_worker", batch._worker, raising=False)
    monkeypatch.setattr(batch, "_worker", crash_once_then_work)
    results = by_student(course.grade())
    assert (tmp_path / "crashed").exists()
    assert results["bob"]["status"] == "graded" and results["bob"]["score"] == 11

    monkeypatch.setattr(batch, "_worker", always_fail)
    course.submit("carol", source)
    results = by_student(course.grade())
    assert results["carol"]["status"] == "grader error" and results["carol"]["score"] is None
    assert results["carol"]["reason"] == ("the grader failed 3 times (an unexpected RuntimeError in the "
                                          "grader); the next `autograder grade` tries again")
    assert "carol" not in gradebook_scores(course)                     # not a zero
    monkeypatch.setattr(batch, "_worker", batch._real_worker)
    assert by_student(course.grade())["carol"]["status"] == "graded"   # retried on the next run


def test_the_exit_code_tells_scripts_that_grader_errors_remain(course, source, monkeypatch, capsys):
    from autograder import batch, cli
    course.submit("alice", source)
    monkeypatch.setattr(batch, "_worker", always_fail)
    assert cli.main(["grade", "mixtures", "--course", str(course.root)]) == cli.PROBLEMS
    assert "1 grader error" in capsys.readouterr().out
    monkeypatch.undo()
    assert cli.main(["grade", "mixtures", "--course", str(course.root)]) == cli.OK


def test_dask_cluster_gives_the_same_grades_as_the_local_pool(course, source, release, with_answer):
    from distributed import LocalCluster
    course.submit("alice", source)
    course.submit("bob", release)
    course.submit("carol", with_answer(source, "q2-answer", "def responsibilities(lj):\n    return lj"))
    local = {s: points(r) for s, r in by_student(course.grade()).items()}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = course.grade(scheduler=cluster.scheduler_address, force=True)
    assert remote.graded_now == 3
    assert {s: points(r) for s, r in by_student(remote).items()} == local
    assert local["carol"] == {**FULL, "q2": 0}


def test_an_unreachable_scheduler_is_one_clear_error(course, source):
    course.submit("alice", source)
    result = course.cli("grade", "mixtures", "--scheduler", "tcp://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("autograder: error: cannot reach the Dask scheduler")


def slow_class(course, source, with_answer, n):
    slow = with_answer(source, "q1-answer", source.cells[3].source + "\nimport time\ntime.sleep(1.5)")
    for i in range(n):
        course.submit(f"student{i:02d}", tagged(slow, str(i)))


def test_killing_the_grader_mid_batch_loses_nothing(course, source, with_answer):
    slow_class(course, source, with_answer, 8)
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "mixtures", "--course", str(course.root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    results = course.root / "autograded"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(results.glob("*/mixtures/autograder-result.json"))) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(results.glob("*/mixtures/autograder-result.json")))
    assert 2 <= done < 8
    assert not list(results.glob("*/mixtures/.*partial"))
    summary = course.grade()
    assert (summary.graded_now, summary.unchanged) == (8 - done, done)
    assert all(r["status"] == "graded" and r["score"] == 11 for r in summary.results)
    assert len(gradebook_scores(course)) == 8


def test_concurrent_regrades_wait_for_each_other(course, source, with_answer):
    slow_class(course, source, with_answer, 3)
    runs = [subprocess.Popen([sys.executable, "-m", "autograder", "grade", "mixtures", "--force",
                              "--course", str(course.root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("another grader is running" in err for _, err in outputs) == 1
    assert gradebook_scores(course) == {f"student{i:02d}": 11 for i in range(3)}


def test_feedback_shows_visible_messages_and_nothing_hidden(course, source, release, with_answer):
    wrong = with_answer(source, "q2-answer", "def responsibilities(log_joint):\n    return np.ones(np.shape(log_joint))")
    evil = copy.deepcopy(wrong)
    evil.cells[3].outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(1)</script>"})]
    evil.cells[3].source += "\n# <script>alert('answer')</script>"
    course.submit("alice", evil)
    os.symlink(course.assignment.source, course.root / "submitted/alice/mixtures/solution-link.ipynb")
    course.submit("bob", release)
    course.grade()
    result = course.cli("feedback", "mixtures")
    assert result.returncode == 0, result.stderr
    folder = course.root / "feedback" / "alice" / "mixtures"
    assert sorted(p.name for p in folder.iterdir()) == ["mixtures.html"]     # nothing copied over
    page = (folder / "mixtures.html").read_text(encoding="utf-8")
    assert "<script" not in page and "Content-Security-Policy" in page
    assert "check failed: each row (one data point) must sum to 1 over the classes" in page
    hidden = "".join(c.source.split("### BEGIN HIDDEN TESTS")[1] for c in source.cells
                     if "### BEGIN HIDDEN TESTS" in c.source)
    for line in filter(None, (ln.strip() for ln in hidden.splitlines())):
        if len(line) > 12 and "END HIDDEN" not in line:
            assert line not in page, f"hidden test text in feedback: {line}"
    bob = (course.root / "feedback/bob/mixtures/mixtures.html").read_text(encoding="utf-8")
    assert bob.count("not answered yet") == 7 and "0 / 11" in bob


def test_report_writes_scores_and_a_summary_plot(course, source, release):
    course.submit("alice", source)
    course.submit("bob", release)
    course.submit("carol", "{}")
    course.grade()
    result = course.cli("report", "mixtures")
    assert result.returncode == 0, result.stderr
    folder = course.root / "reports" / "mixtures"
    rows = list(csv.DictReader(open(folder / "scores.csv", encoding="utf-8")))
    assert [(r["student"], r["status"], r["score"], r["q2"]) for r in rows] == [
        ("alice", "graded", "11.0", "2.0"), ("bob", "graded", "0.0", "0.0"), ("carol", "ungradable", "", "")]
    assert (folder / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (folder / "summary.html").read_text(encoding="utf-8")
    assert "1 of 2" in page and "data:image/png;base64," in page


def test_feedback_before_grading_is_one_clear_error(course):
    result = course.cli("feedback", "mixtures")
    assert result.returncode == 2
    assert result.stderr.strip() == ("autograder: error: nothing has been graded for mixtures yet: "
                                     "run `python -m autograder grade mixtures` first")


def test_grading_an_empty_class_says_where_submissions_go(course):
    result = course.cli("grade", "mixtures")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"mixtures: no submissions and no students on the roster yet "
                                     f"(submissions go in {course.root / 'submitted'}/<student>/mixtures/)")
