"""The built book: every page of the table of contents is there, every chapter with code
was executed without errors, and maths is rendered by the MathJax copy shipped in the build
(never a CDN). The `built_book` fixture (tests/conftest.py) runs `make book`."""
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from book_support import TOC_PAGES

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
LOCAL_MATHJAX = "_static/mathjax/tex-chtml.js"
CODE_CELL = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*\{code-cell\}", re.MULTILINE)


def source_of(page: str) -> Path | None:
    for suffix in (".md", ".ipynb", ".rst"):
        path = BOOK / (page + suffix)
        if path.exists():
            return path
    return None


def has_code_cells(source: Path | None) -> bool:
    if source is None:
        return False
    if source.suffix == ".ipynb":
        return any(c["cell_type"] == "code" for c in json.loads(source.read_text())["cells"])
    return bool(CODE_CELL.search(source.read_text()))


class _Scripts(HTMLParser):
    """Collects <script> tags (src and inline text) and whether the page has maths."""

    def __init__(self):
        super().__init__()
        self.srcs, self.inline, self.has_math = [], [], False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attrs.get("src"):
                self.srcs.append(attrs["src"])
        if "math" in (attrs.get("class") or "").split():
            self.has_math = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data)


def scripts_of(html_file: Path) -> _Scripts:
    parser = _Scripts()
    parser.feed(html_file.read_text(encoding="utf-8"))
    return parser


PAGES = TOC_PAGES
NOTEBOOK_PAGES = [p for p in PAGES if has_code_cells(source_of(p))]


def test_toc_lists_pages():
    assert len(PAGES) >= 2, f"_toc.yml lists too few pages: {PAGES}"
    assert "mixtures" in PAGES, "the mixtures chapter is missing from _toc.yml"


@pytest.mark.parametrize("page", PAGES)
def test_page_is_built(built_book, page):
    assert source_of(page) is not None, f"{page} is in _toc.yml but book/{page}.md does not exist"
    html = built_book / "html" / f"{page}.html"
    assert html.is_file(), f"{page} is in _toc.yml but {html} was not built"


def test_index_page_exists(built_book):
    assert (built_book / "html" / "index.html").is_file(), "_build/html/index.html is missing"


def executed_notebook(build: Path, page: str):
    """The executed notebook of a chapter, with its outputs.

    myst-nb 1.4 writes ``jupyter_execute/<page>.ipynb`` *without* outputs when it takes them
    from the execution cache (a chapter re-read after a Markdown-only edit: it saves the
    notebook it parsed, not the one merged with the cache). The outputs then live in the
    jupyter-cache under ``_build/.jupyter_cache``, which is what the HTML was rendered from.
    """
    import nbformat

    path = build / "jupyter_execute" / f"{page}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    if any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"):
        return notebook, str(path)
    cache_dir = build / ".jupyter_cache"
    if cache_dir.is_dir():
        from jupyter_cache import get_cache

        try:
            pk, merged = get_cache(str(cache_dir)).merge_match_into_notebook(notebook)
            return merged, f"{path} (outputs from execution cache record {pk})"
        except KeyError:
            pass
    return notebook, str(path)


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_chapter_was_executed(built_book, page):
    executed = built_book / "jupyter_execute" / f"{page}.ipynb"
    assert executed.is_file(), f"{page} has code cells but was not executed ({executed} is missing)"
    notebook, where = executed_notebook(built_book, page)
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert cells, f"{where} has no code cells"
    assert any(c.get("outputs") for c in cells), f"{page}: no code cell has any output ({where})"
    for i, cell in enumerate(cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if "skip-execution" in tags:
            continue
        first_line = cell.source.strip().splitlines()[:1]
        assert cell.get("execution_count") is not None, (
            f"{page}: code cell {i} ({first_line}) was not executed ({where})")
        if "raises-exception" in tags:  # an error the author shows on purpose
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, (
            f"{page}: code cell {i} ({first_line}) raised "
            f"{errors[0].get('ename')}: {errors[0].get('evalue')} ({where})")


def test_local_mathjax_is_in_the_build(built_book):
    static = built_book / "html" / "_static" / "mathjax"
    assert (static / "tex-chtml.js").is_file(), f"{static / 'tex-chtml.js'} is missing"
    fonts = list((static / "output" / "chtml" / "fonts").rglob("*.woff"))
    assert fonts, f"no MathJax CHTML fonts under {static / 'output/chtml/fonts'}"


@pytest.mark.parametrize("page", PAGES)
def test_mathjax_is_served_locally(built_book, page):
    html = built_book / "html" / f"{page}.html"
    scripts = scripts_of(html)
    for src in scripts.srcs:
        assert "cdn" not in src.lower(), f"{page}: script loaded from a CDN: {src}"
        if "mathjax" in src.lower():
            assert not re.match(r"^([a-z]+:)?//", src, re.I), (
                f"{page}: MathJax loaded from outside the book: {src}")
            assert src.split("?")[0].endswith(LOCAL_MATHJAX), (
                f"{page}: unexpected MathJax script {src} (expected {LOCAL_MATHJAX})")
            target = (html.parent / src.split("?")[0]).resolve()
            assert target.is_file(), f"{page}: MathJax script {src} does not exist ({target})"
    for text in scripts.inline:
        if "mathjax" in text.lower():
            assert not re.search(r"https?://", text), (
                f"{page}: the MathJax configuration points outside the book: {text[:300]}")
    if scripts.has_math:
        assert any(s.split("?")[0].endswith(LOCAL_MATHJAX) for s in scripts.srcs), (
            f"{page} has maths but does not load the local {LOCAL_MATHJAX}")


def test_landing_page_has_maths(built_book):
    root = PAGES[0]
    assert scripts_of(built_book / "html" / f"{root}.html").has_math, (
        f"the landing page {root}.html has no maths (a displayed equation is expected)")
