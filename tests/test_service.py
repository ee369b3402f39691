"""The grading service through a real server process on 127.0.0.1: what students and the
instructor rely on, the limits, and what an attacker tries."""
import gzip
import io
import json
import socket
import sqlite3
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from service_support import ROOT, Server, autograder, issue_tokens, make_course, nbgrader

from autograder.grade import grade_notebook
from autograder.intake import content_hash

FIXTURES = Path(__file__).parent / "fixtures" / "mixtures"
STUDENTS = ["alice", "bob", "carol", "mallory", "dave", "erin", "gina", "hank"]
TRIES = 3


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("served") / "course", STUDENTS,
                         f'[assignments.mixtures]\ntries = {TRIES}\nwindow = "1h"\n', ("mixtures", "pgm"))
    tokens = issue_tokens(course)
    tokens.update(issue_tokens(course, "instructor"))
    server = Server(course).start()
    yield server, tokens
    server.stop()


@pytest.fixture(scope="module")
def notebooks(reference, with_answer):
    source, oracle = reference("mixtures")
    wrong = with_answer(source, "q6-answer", (FIXTURES / "q6-answer--probability-of-good.py").read_text())
    blank = (ROOT / "exercises" / "mixtures" / "mixtures.ipynb").read_bytes()
    return {"reference": (ROOT / "solutions" / "mixtures" / "mixtures.ipynb").read_bytes(),
            "wrong": nbformat.writes(wrong).encode(), "blank": blank, "source": source, "oracle": oracle,
            "wrong_nb": wrong}


def test_submit_prints_the_grade_and_the_gradebook_records_it(served, tmp_path):
    server, tokens = served
    (tmp_path / "token").write_text(tokens["alice"] + "\n")
    result = autograder("submit", str(ROOT / "solutions/mixtures/mixtures.ipynb"), "--server", server.url,
                        "--token-file", str(tmp_path / "token"), cwd=tmp_path, env={"AUTOGRADER_TOKEN": ""})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "mixtures: attempt 1, graded, 11 / 11 points"
    assert lines[1] == "  q1  passed   1/1 pt" and len(lines) == 8
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{server.course / 'gradebook.db'}") as gb:
        assert gb.find_submission("mixtures", "alice").score == 11
    submitted = server.course / "submitted/alice/mixtures/mixtures.ipynb"
    assert submitted.read_bytes() == (ROOT / "solutions/mixtures/mixtures.ipynb").read_bytes()


def test_a_wrong_answer_gets_the_same_result_as_batch_grading_and_no_probe_details(served, notebooks):
    server, tokens = served
    reply = server.post(tokens["bob"], notebooks["wrong"])
    assert reply.status_code == 202 and reply.json()["state"] in ("queued", "running", "done")
    attempt = server.verdict(tokens["bob"], reply.json()["id"])
    batch = grade_notebook(notebooks["source"], notebooks["wrong_nb"], notebooks["oracle"])
    assert [(q["id"], q["points"], q["status"], q["message"]) for q in attempt["questions"]] == \
        [(r.id, r.points, r.status, r.message) for r in batch]
    assert attempt["score"] == 10 and attempt["status"] == "graded"
    assert set(attempt) == {"id", "assignment", "received_at", "state", "status", "score", "max_score",
                            "reason", "repairs", "questions"}
    assert all(set(q) == {"id", "points", "max_points", "status", "message"} for q in attempt["questions"])
    assert next(q for q in attempt["questions"] if q["id"] == "q6")["message"].startswith("check failed: point 3")


def test_an_accepted_upload_is_stored_by_its_hash_before_the_reply(served, notebooks):
    server, tokens = served
    reply = server.post(tokens["erin"], notebooks["blank"])
    assert reply.status_code == 202
    assert reply.headers["location"] == f"/api/attempts/{reply.json()['id']}"
    stored = server.course / "service" / "uploads" / f"{content_hash(notebooks['blank'])}.ipynb"
    assert stored.read_bytes() == notebooks["blank"]


def test_tries_per_window_are_limited_with_the_time_the_next_opens(served, notebooks):
    server, tokens = served
    before = time.time()
    for _ in range(TRIES):
        assert server.post(tokens["carol"], notebooks["blank"]).status_code == 202
    refused = server.post(tokens["carol"], notebooks["blank"])
    assert refused.status_code == 429
    assert refused.json()["error"].startswith(f"you have used your {TRIES} tries in 1 hour: the next try opens at ")
    assert 3590 <= int(refused.headers["retry-after"]) <= 3600 + (time.time() - before) + 1
    me = server.get(tokens["carol"], "/api/me").json()
    assert me["assignments"][0]["tries_left"] == 0


def test_the_server_clock_counts_not_the_clients(served, notebooks):
    server, tokens = served
    before = time.time()
    reply = server.post(tokens["dave"], notebooks["blank"],
                        headers={"Date": "Sat, 01 Jan 2000 00:00:00 GMT", "X-Received-At": "0"})
    assert before <= reply.json()["received_at"] <= time.time()


def test_no_token_a_wrong_token_or_a_revoked_token_is_refused(served, notebooks):
    server, tokens = served
    for token in (None, "ag_not-a-real-token", tokens["alice"] + "x"):
        reply = server.post(token, notebooks["blank"])
        assert reply.status_code == 401
        assert reply.json() == {"error": "no valid token: log in with the token your instructor gave you "
                                         "(a revoked token no longer works)"}
    assert server.post(tokens["mallory"], notebooks["blank"]).status_code == 202
    revoked = autograder("tokens", "revoke", "mallory", "--course", str(server.course), cwd=server.course)
    assert revoked.stdout == "revoked the token of mallory\n"
    assert server.post(tokens["mallory"], notebooks["blank"]).status_code == 401
    assert server.get(tokens["mallory"], "/api/attempts").status_code == 401


def test_a_student_sees_only_their_own_attempts(served, notebooks):
    server, tokens = served
    hanks = server.post(tokens["hank"], notebooks["blank"]).json()["id"]
    other = server.get(tokens["erin"], f"/api/attempts/{hanks}")
    assert other.status_code == 403 and other.json() == {"error": "this attempt is another student's"}
    assert {a["id"] for a in server.get(tokens["erin"], "/api/attempts").json()["attempts"]}.isdisjoint({hanks})
    assert server.get(tokens["erin"], "/api/class").status_code == 403
    assert server.get(tokens["erin"], "/api/attempts/../../etc/passwd").status_code == 404


def test_the_instructor_sees_the_queue_and_every_attempt(served, notebooks):
    server, tokens = served
    made = [server.post(tokens["gina"], notebooks["blank"]).json()["id"] for _ in range(2)]
    server.verdict(tokens["gina"], made[-1])
    view = server.get(tokens["instructor"], "/api/class").json()
    assert {"queued", "running", "attempts"} <= set(view)
    assert {a["id"] for a in view["attempts"] if a["student"] == "gina"} >= set(made)
    refused = server.post(tokens["instructor"], b"{}")
    assert refused.status_code == 403


@pytest.mark.parametrize("body, headers, status, error", [
    (b"not json at all", {}, 422, "this file is not a Jupyter notebook: submit your mixtures.ipynb"),
    (b"\xff\xfe binary", {}, 422, "this file is not a Jupyter notebook: submit your mixtures.ipynb"),
    (gzip.compress(b"{" * 10_000_000), {"Content-Encoding": "gzip"}, 415,
     "send the notebook file itself, not compressed"),
], ids=["text", "binary", "gzip-bomb"])
def test_what_is_not_a_notebook_is_refused_in_one_line(served, body, headers, status, error):
    server, tokens = served
    reply = server.post(tokens["erin"], body, headers=headers)
    assert (reply.status_code, reply.json()) == (status, {"error": error})


def test_a_zip_bomb_is_refused_without_being_unpacked(served):
    server, tokens = served
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mixtures.ipynb", b"\0" * 200_000_000)
    reply = server.post(tokens["erin"], buffer.getvalue())
    assert reply.status_code == 422


def test_an_oversized_upload_is_refused_while_it_streams(served):
    server, tokens = served

    def chunks():
        for _ in range(65):
            yield b" " * 2**20
    import httpx
    try:
        reply = httpx.post(f"{server.url}/api/assignments/mixtures/submissions", content=chunks(),
                           headers={"Authorization": f"Bearer {tokens['erin']}"}, timeout=60)
    except httpx.TransportError:  # the server may close the connection before the upload ends
        reply = None
    if reply is not None:
        assert reply.status_code == 413
        assert reply.json()["error"].startswith("the notebook is larger than 64 MiB: clear its outputs")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw:  # a length it never sends
        raw.sendall((f"POST /api/assignments/mixtures/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Authorization: Bearer {tokens['erin']}\r\nContent-Length: {65 * 2**20}\r\n\r\n{{}}").encode())
        head = raw.recv(4096).decode()
    assert head.startswith("HTTP/1.1 413 ")


def test_another_exercise_or_an_unknown_assignment_is_refused(served):
    server, tokens = served
    pgm = (ROOT / "exercises" / "pgm" / "pgm.ipynb").read_bytes()
    reply = server.post(tokens["erin"], pgm)
    assert (reply.status_code, reply.json()) == (
        422, {"error": "this notebook is the pgm exercise, not mixtures: submit mixtures.ipynb to mixtures"})
    unknown = server.post(tokens["erin"], pgm, assignment="nosuch")
    assert (unknown.status_code, unknown.json()) == (404, {"error": "no such assignment: this course has mixtures, pgm"})
    traversal = server.post(tokens["erin"], pgm, assignment="..%2F..%2Fetc")
    assert traversal.status_code == 404


def test_nothing_the_client_names_reaches_the_file_system(served, notebooks):
    server, tokens = served
    before = {p for p in server.course.rglob("*") if "service" not in p.parts}
    reply = server.post(tokens["erin"], notebooks["blank"],
                        headers={"Content-Disposition": 'attachment; filename="../../evil.ipynb"',
                                 "X-Filename": "../../../tmp/evil.ipynb"})
    assert reply.status_code == 202
    server.verdict(tokens["erin"], reply.json()["id"])
    new = {p for p in server.course.rglob("*") if "service" not in p.parts} - before
    assert not any("evil" in str(p) for p in server.course.parent.rglob("*"))
    # The gradebook's own SQLite side files may appear while the grader writes it: not client-named.
    sqlite_side_files = {"gradebook.db-journal", "gradebook.db-wal", "gradebook.db-shm"}
    assert all(p.relative_to(server.course).parts[0] in {"submitted", "autograded"} or p.suffix == ".log"
               or p.name in sqlite_side_files for p in new), new
    uploads = {p.name for p in (server.course / "service" / "uploads").iterdir()}
    assert all(len(name) == len("0" * 64 + ".ipynb") for name in uploads)


def test_a_server_killed_with_a_queue_loses_nothing_and_grades_each_attempt_once(tmp_path, notebooks):
    course = make_course(tmp_path / "course", ["zoe"], '[defaults]\nkeep = "best"\ntries = 10\n')
    token = issue_tokens(course)["zoe"]
    server = Server(course, workers=1).start()
    ids = [server.post(token, notebooks[kind]).json()["id"] for kind in ("reference", "blank", "wrong", "blank")]
    server.kill()   # kill -9 with attempts queued (one worker cannot have graded four yet)
    journal = sqlite3.connect(course / "service" / "journal.db")
    graded_before = journal.execute("SELECT count(*) FROM results").fetchone()[0]
    assert graded_before < len(ids)
    time.sleep(1)
    restarted = Server(course, workers=1)
    restarted.port, restarted.url = server.port, server.url
    restarted.start()
    try:
        attempts = [restarted.verdict(token, i) for i in ids]
    finally:
        restarted.stop()
    assert [a["score"] for a in attempts] == [11, 0, 10, 0]
    rows = journal.execute("SELECT attempt_id, count(*) FROM results GROUP BY attempt_id").fetchall()
    assert sorted(rows) == [(i, 1) for i in ids]
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("mixtures", "zoe").score == 11   # keep = "best"
    recorded = json.loads((course / "autograded/zoe/mixtures/autograder-result.json").read_text())
    assert recorded["service_attempt"] == ids[0]
    # The batch grader sees the service's record as this very submission: nothing to regrade.
    batch = autograder("grade", "mixtures", "--course", str(course), cwd=course)
    assert "(0 graded now, 1 unchanged)" in batch.stdout.splitlines()[0], batch.stdout


def test_a_grader_killed_after_recording_a_result_does_not_grade_that_attempt_again(tmp_path):
    from autograder.service.journal import DONE, QUEUED, Journal
    journal = Journal(tmp_path)
    recorded, unrecorded = (journal.add("zoe", "mixtures", sha, b"{}", time.time()) for sha in ("a", "b"))
    for attempt_id in (recorded, unrecorded):
        journal.start(attempt_id)
    journal.record(recorded, {"status": "graded", "score": 3.0})
    assert journal.attempt(recorded)["state"] == "running"   # not shown before it is in the gradebook
    journal.close()
    restarted = Journal(tmp_path)
    assert restarted.requeue_interrupted() == 1
    assert [restarted.attempt(i)["state"] for i in (recorded, unrecorded)] == [DONE, QUEUED]
    restarted.close()


def test_late_work_is_refused_when_the_policy_says_so(tmp_path, notebooks):
    course = make_course(tmp_path / "course", ["yan"], "[defaults]\nlate = false\n")
    nbgrader("db", "assignment", "add", "mixtures", "--duedate=2020-01-01 12:00:00 UTC", cwd=course)
    token = issue_tokens(course)["yan"]
    server = Server(course).start()
    try:
        reply = server.post(token, notebooks["blank"])
    finally:
        server.stop()
    assert (reply.status_code, reply.json()) == (
        403, {"error": "the due date (2020-01-01 12:00 UTC) has passed and late work is not accepted"})


def test_tokens_are_stored_only_as_hashes_and_only_for_the_roster(served):
    server, tokens = served
    stored = (server.course / "service" / "tokens.json").read_text()
    assert tokens["alice"] not in stored and len(json.loads(stored)["alice"]) == 64
    result = autograder("tokens", "issue", "stranger", "--course", str(server.course), cwd=server.course)
    assert result.returncode == 2
    assert result.stderr == ("autograder: error: not on the roster: stranger: add them with "
                             "`nbgrader db student add NAME` (or check the spelling)\n")


def test_submit_without_a_token_says_where_to_put_it(tmp_path):
    result = autograder("submit", str(ROOT / "exercises/mixtures/mixtures.ipynb"), "--server", "http://127.0.0.1:9",
                        "--token-file", str(tmp_path / "none"), cwd=tmp_path, env={"AUTOGRADER_TOKEN": ""})
    assert result.returncode == 2
    assert result.stderr == (f"autograder: error: no token: put the one your instructor gave you in "
                             f"{tmp_path / 'none'} (or in the AUTOGRADER_TOKEN environment variable), "
                             "then submit again\n")
