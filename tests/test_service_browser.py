"""The service's web pages in a real browser (Debian's chromium driven by Playwright)."""
import pytest

from autograder.notebook import questions, read_notebook
from service_support import ROOT, Server, autograder, issue_tokens, make_course

pytestmark = pytest.mark.browser
HOSTILE = 'dora<img src=x onerror="window.pwned=1">'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("web") / "course", ["alice", HOSTILE])
    tokens = {**issue_tokens(course), **issue_tokens(course, "instructor")}
    server = Server(course).start()
    yield server, tokens
    server.stop()


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}") or dialog.dismiss())
    page.errors = errors
    yield page
    context.close()


def test_a_student_logs_in_uploads_and_reads_the_verdict(site, page):
    server, tokens = site
    page.goto(server.url + "/")
    page.get_by_label("Your token (from your instructor)").fill(tokens["alice"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as").wait_for()
    assert page.locator("#who").text_content() == "alice"
    assert page.locator("#assignment option").all_text_contents() == ["mixtures (5 of 5 tries left)"]
    page.get_by_label("Notebook (.ipynb, saved)").set_input_files(str(ROOT / "solutions/mixtures/mixtures.ipynb"))
    page.get_by_role("button", name="Submit for grading").click()
    graded = questions(read_notebook(ROOT / "solutions/mixtures/mixtures.ipynb"))
    total = f"{sum(q.points for q in graded):g}"
    page.get_by_text(f"Graded: {total} / {total} points.").wait_for(timeout=60_000)
    rows = page.locator("#result tbody tr")
    assert rows.count() == len(graded)
    assert rows.nth(0).locator("td").all_text_contents() == ["q1", "1 / 1", "passed", ""]
    page.get_by_text("mixtures (4 of 5 tries left)").wait_for(state="attached")
    assert page.errors == []


def test_a_refused_upload_shows_the_one_line_reason(site, page):
    server, tokens = site
    page.goto(server.url + "/")
    page.get_by_label("Your token (from your instructor)").fill(tokens["alice"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Notebook (.ipynb, saved)").set_input_files(
        files=[{"name": "mixtures.ipynb", "mimeType": "application/json", "buffer": b"not a notebook"}])
    page.get_by_role("button", name="Submit for grading").click()
    alert = page.get_by_role("alert")
    alert.get_by_text("this file is not a Jupyter notebook").wait_for()
    assert alert.text_content() == "this file is not a Jupyter notebook: submit your mixtures.ipynb"


def test_a_wrong_token_is_refused(site, page):
    server, _tokens = site
    page.goto(server.url + "/")
    page.get_by_label("Your token (from your instructor)").fill("ag_wrong")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").get_by_text("no valid token").wait_for()
    assert page.locator("#work").is_hidden()


def test_the_class_view_shows_names_as_text_never_as_html(site, page):
    server, tokens = site
    reply = server.post(tokens[HOSTILE], (ROOT / "exercises/mixtures/mixtures.ipynb").read_bytes())
    server.verdict(tokens[HOSTILE], reply.json()["id"])
    page.goto(server.url + "/class")
    page.get_by_label("Instructor token").fill(tokens["instructor"])
    page.get_by_role("button", name="Open").click()
    page.get_by_text(HOSTILE).wait_for()
    assert page.locator("#class img").count() == 0
    assert page.evaluate("window.pwned") is None
    assert page.errors == []


def test_under_a_jupyterhub_style_prefix_the_page_and_submit_work(tmp_path, page):
    course = make_course(tmp_path / "course", ["alice"])
    token = issue_tokens(course)["alice"]
    server = Server(course, prefix="/services/autograder").start()
    try:
        page.goto(server.url + "/")
        page.get_by_label("Your token (from your instructor)").fill(token)
        page.get_by_role("button", name="Log in").click()
        page.get_by_label("Notebook (.ipynb, saved)").set_input_files(str(ROOT / "exercises/mixtures/mixtures.ipynb"))
        page.get_by_role("button", name="Submit for grading").click()
        page.get_by_text("Graded: 0 / 11 points.").wait_for(timeout=60_000)
        (tmp_path / "token").write_text(token)
        result = autograder("submit", str(ROOT / "solutions/mixtures/mixtures.ipynb"), "--server", server.url,
                            "--token-file", str(tmp_path / "token"), cwd=tmp_path, env={"AUTOGRADER_TOKEN": ""})
    finally:
        server.stop()
    assert result.stdout.splitlines()[0] == "mixtures: attempt 2, graded, 11 / 11 points"
