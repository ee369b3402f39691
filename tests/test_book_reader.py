"""The built book as a reader meets it, on a laptop and on a phone, in a real browser (Debian's
chromium under Playwright, offline): the navigation buttons open what they say, nothing scrolls
sideways, no page logs an error, every figure is described, concept checks answer, the chapter
notebooks and the book's PDF download and open, and axe-core finds no serious accessibility
problem.
"""
import re

import nbformat
import pytest
from axe_playwright_python.sync_playwright import Axe
from bs4 import BeautifulSoup
from book_support import DESKTOP, PHONE, ROOT, TOC_PAGES, Visit, open_page, site, visit  # noqa: F401 (fixtures)
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pypdf import PdfReader

pytestmark = [pytest.mark.browser, pytest.mark.book]

SIZES = {"desktop": DESKTOP, "phone": PHONE}
CHAPTERS = [p for p in TOC_PAGES if (ROOT / "solutions" / p).is_dir()]   # the pages with an exercise
QUIZZES_PER_CHAPTER = range(3, 7)
SERIOUS = {"serious", "critical"}


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def sized(request, browser):
    v = Visit(browser, SIZES[request.param])
    v.size = request.param
    yield v
    v.close()


def visible(page, selector: str) -> bool:
    return page.locator(selector).first.is_visible()


@pytest.mark.parametrize("name", TOC_PAGES)
def test_navigation_buttons_open_the_chapter_list_and_the_page_contents(sized, site, name):
    page = sized.page
    open_page(sized, site, f"{name}.html", maths=False)
    toggle = page.locator(".bd-header-article .primary-toggle")
    assert toggle.is_visible(), f"{name} ({sized.size}): no visible chapter-list button"
    if sized.size == "phone":
        toggle.click()
        page.wait_for_selector("#pst-primary-sidebar-modal[open]")
        links = page.locator("#pst-primary-sidebar-modal nav.bd-docs-nav a")
        assert links.count() >= len(CHAPTERS) and links.first.is_visible(), (
            f"{name} (phone): the chapter list opened without its links")
        page.keyboard.press("Escape")
        page.wait_for_selector("#pst-primary-sidebar-modal:not([open])", state="attached")
        contents = page.locator(".bd-header-article .secondary-toggle")
        if contents.count() and contents.first.is_visible():
            contents.first.click()
            page.wait_for_selector("#pst-secondary-sidebar-modal[open]")
            assert page.locator("#pst-secondary-sidebar-modal nav a").first.is_visible(), (
                f"{name} (phone): the page contents opened empty")
    else:
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        toggle.click()
        page.wait_for_function("() => getComputedStyle(document.getElementById('pst-primary-sidebar'))"
                               ".visibility === 'hidden'")
        toggle.click()
        page.wait_for_function("() => getComputedStyle(document.getElementById('pst-primary-sidebar'))"
                               ".visibility === 'visible'")
        if name in CHAPTERS:
            assert visible(page, ".bd-sidebar-secondary nav.page-toc a"), f"{name}: no page contents shown"
    assert not sized.errors, f"{name} ({sized.size}): JavaScript errors: {sized.errors}"


WIDE_ELEMENTS = """() => {
  const W = document.documentElement.clientWidth, out = [];
  const clipped = (e) => { for (let a = e.parentElement; a; a = a.parentElement)
    if (getComputedStyle(a).overflowX !== 'visible') return true; return false; };
  document.querySelectorAll('body *').forEach((el) => {
    const r = el.getBoundingClientRect();
    if (r.right > W + 0.5 && el.offsetParent !== null && !clipped(el))
      out.push(el.tagName + '.' + el.className + ': ' + (el.textContent || '').trim().slice(0, 60));
  });
  return out.slice(0, 5);
}"""


def built_page(built_book, name: str) -> BeautifulSoup:
    return BeautifulSoup((built_book / "html" / f"{name}.html").read_text(), "html.parser")


@pytest.mark.parametrize("name", TOC_PAGES)
def test_every_figure_is_numbered_captioned_and_described(built_book, name):
    problems = []
    for img in built_page(built_book, name).select("article img"):
        alt, src = img.get("alt", ""), img["src"]
        figure = img.find_parent("figure")
        number = figure.select_one("figcaption .caption-number") if figure else None
        if len(alt.split()) < 5 or re.search(r"\.(png|svg|jpe?g)$", alt) or alt in src:
            problems.append(f"{src.rsplit('/', 1)[-1]}: alt text {alt!r} does not describe the picture")
        if not (number and re.match(r"Fig\. \d+\.\d+", number.get_text().strip())):
            problems.append(f"{src.rsplit('/', 1)[-1]}: not in a numbered, captioned figure")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", CHAPTERS)
def test_concept_checks_answer_in_the_page(visit, site, name):
    page = visit.page
    open_page(visit, site, f"{name}.html", maths=False)
    quizzes = page.locator("form.quiz")
    assert quizzes.count() in QUIZZES_PER_CHAPTER, f"{name}: {quizzes.count()} concept checks"
    for i in range(quizzes.count()):
        quiz = quizzes.nth(i)
        quiz.scroll_into_view_if_needed()
        explanation, feedback = quiz.locator(".quiz-explanation"), quiz.locator(".quiz-feedback")
        answer, numeric = quiz.get_attribute("data-answer"), quiz.get_attribute("data-numeric")
        if answer:
            wrong = next(o for o in ("1", "2", "3", "4") if o != answer)
            quiz.locator(f"input[value='{wrong}']").check()
        else:
            quiz.locator(".quiz-number input").fill(str(float(numeric) * 2 + 1))
        quiz.locator("button[type=submit]").click()
        assert feedback.inner_text().startswith("Not quite"), f"{name}, check {i + 1}: {feedback.inner_text()!r}"
        assert not explanation.is_visible(), f"{name}, check {i + 1}: explained after one wrong try"
        if answer:
            quiz.locator(f"input[value='{answer}']").check()
        else:
            quiz.locator(".quiz-number input").fill(numeric)
        quiz.locator("button[type=submit]").click()
        assert feedback.inner_text() == "Right.", f"{name}, check {i + 1}: the right answer gave {feedback.inner_text()!r}"
        assert explanation.is_visible(), f"{name}, check {i + 1}: no explanation after the right answer"
    assert not visit.errors, f"{name}: JavaScript errors: {visit.errors}"


def download_links(page: BeautifulSoup) -> list[str]:
    return [a["href"] for a in page.select(".dropdown-download-buttons a[href]")]


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_chapter_downloads_as_a_notebook_with_its_outputs(built_book, name):
    notebooks = [h for h in download_links(built_page(built_book, name)) if h.endswith(".ipynb")]
    assert len(notebooks) == 1, f"{name}: the download menu has no single .ipynb: {notebooks}"
    notebook = nbformat.read(built_book / "html" / notebooks[0], as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and any(c.outputs for c in code), f"{name}.ipynb has no outputs"
    assert notebook.metadata.kernelspec.name == "python3"


def test_the_book_pdf_has_every_page_of_the_table_of_contents(built_book):
    mixtures_page = built_page(built_book, "mixtures")
    assert "course-book.pdf" in download_links(mixtures_page), "the download menu has no link to the book's PDF"
    pdf = PdfReader(built_book / "html" / "course-book.pdf")
    titles = [item.title for item in pdf.outline]
    assert len(titles) == len(TOC_PAGES), titles
    assert titles[1].startswith("Setting up") and any(t.startswith("1. Mixture models") for t in titles)
    first_page_of = {title: pdf.get_destination_page_number(item) for title, item in zip(titles, pdf.outline)}
    assert sorted(first_page_of.values()) == list(first_page_of.values()), "bookmarks out of order"
    start = first_page_of[next(t for t in titles if t.startswith("1. Mixture models"))]
    end = min(n for n in first_page_of.values() if n > start)
    text = " ".join(" ".join(pdf.pages[i].extract_text().split()) for i in range(start, end))
    assert "Mixture models" in text
    # Solutions are printed open: the first practice solution's words are in the chapter's pages.
    first = mixtures_page.select_one(".solution p:not(.admonition-title)").get_text()
    solution = " ".join(first.split()[:6])
    assert solution in text, f"the PDF does not show the solution that begins {solution!r}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_can_be_opened_in_a_local_jupyterlab(built_book, name):
    launch = built_page(built_book, name).select("a.btn-open-in-local-jupyterlab")
    assert len(launch) == 1, f"{name}: no 'Open in your JupyterLab' button"
    page, section = launch[0]["href"].split("#")
    target = built_page(built_book, page.removesuffix(".html")).find(id=section)
    assert target is not None and "make lab" in target.get_text(), launch[0]["href"]


def test_the_footer_links_the_repository_and_its_issues(built_book):
    footer = built_page(built_book, "intro").select("footer")
    hrefs = [a["href"] for f in footer for a in f.select("a[href]")]
    assert any(h.endswith("/issues") for h in hrefs) and any("creativecommons.org" in h for h in hrefs), hrefs
    assert any("CITATION.cff" in f.get_text() for f in footer)


@pytest.mark.parametrize("name", [*TOC_PAGES, "search", "genindex"])
def test_the_page_fits_the_screen_logs_no_error_and_passes_axe(sized, site, name):
    """One visit per page and size: no sideways scrolling, nothing in the console, and no serious
    or critical axe-core violation."""
    page = sized.page
    open_page(sized, site, f"{name}.html")
    problems = []
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if width[0] > width[1] + 1:   # 1 px: scrollWidth rounds a sub-pixel glyph edge up
        problems.append(f"{width[0]} px wide in a {width[1]} px window: {page.evaluate(WIDE_ELEMENTS)}")
    if sized.errors:
        problems.append(f"errors in the console: {sized.errors}")
    # Colours are the same at both sizes, so contrast (axe's slowest rule by far) is checked once.
    options = {"resultTypes": ["violations"]}
    if sized.size == "phone":
        options["rules"] = {"color-contrast": {"enabled": False}}
    problems += [f"axe {v['id']} ({v['impact']}): {v['help']}; e.g. {v['nodes'][0]['target']}"
                 for v in Axe().run(page, options=options).response["violations"] if v["impact"] in SERIOUS]
    assert not problems, f"{name} ({sized.size}):\n  " + "\n  ".join(problems)


def test_search_excerpts_show_the_text_around_the_match(visit, site):
    page = visit.page
    page.goto(site + "search.html?q=responsibility", wait_until="load")
    # Sphinx fills the excerpts one by one as it fetches each page, so the check waits for the
    # state it asserts (reading the list once the third excerpt appeared raced with the filling).
    read = "() => [...document.querySelectorAll('#search-results ul.search li p.context')].map(p => p.innerText)"
    try:
        page.wait_for_function(f"() => ({read})().filter(t => /responsibilit/i.test(t)).length >= 3", timeout=15000)
    except PlaywrightTimeout:
        pass
    excerpts = page.evaluate(read)
    assert sum("responsibilit" in e.lower() for e in excerpts) >= 3, excerpts
    # Not the theme's button labels (".md", ".pdf") or the printed table of contents.
    assert not any(re.match(r"\.\.\.\s*(\.md|\.pdf|\.ipynb|Contents)", e) for e in excerpts), excerpts


def test_a_bibliography_url_keeps_its_tilde(built_book):
    assert 'href="https://www.cs.ubc.ca/~murphyk/Bayes/bnintro.html"' in (
        built_book / "html" / "bibliography.html").read_text()



@pytest.mark.parametrize("number, name", list(enumerate(CHAPTERS, start=1)))
def test_figures_and_exercises_are_numbered_within_their_chapter(built_book, number, name):
    page = (built_book / "html" / f"{name}.html").read_text()
    numbers = re.findall(r'<span class="caption-number">(?:Fig\. )?(\d+)\.\d+', page)
    numbers += re.findall(r"Exercise (\d+)\.\d+", page)
    assert numbers and set(numbers) == {str(number)}, f"{name} is chapter {number}: numbers {sorted(set(numbers))}"


def test_the_index_lists_every_glossary_term(built_book):
    glossary = built_page(built_book, "glossary")
    terms = {dt["id"]: dt.get_text(" ", strip=True).rstrip("¶").strip() for dt in glossary.select("dl.glossary dt[id]")}
    index = built_page(built_book, "genindex")
    targets = {a["href"].split("#")[-1] for a in index.select("a[href^='glossary.html#']")}
    assert len(terms) > 50 and set(terms) <= targets, sorted(set(terms) - targets)
