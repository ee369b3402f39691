"""The built book in a real browser (Debian's chromium driven by Playwright), fully offline.

`_build/html` is served on 127.0.0.1; every request to another host is blocked and recorded.
On every page of the table of contents (plus index.html, search.html and genindex.html) the
maths must be typeset by the local MathJax, every image must load and every internal link
(and its #fragment) must resolve. The site search must find the mixtures chapter.
"""
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from book_support import (IMAGES_REPORT, LINKS, MATHS_REPORT, PAGES, RENDER_TYPES, TOC_PAGES, fetch, ids_of,
                          is_internal, open_page, site, visit)  # noqa: F401 (site and visit are fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.book]

# --------------------------------------------------------------------------- tests

@pytest.mark.parametrize("name", PAGES)
def test_page_renders_offline(visit, site, built_book, name):
    if not (built_book / "html" / name).is_file():
        pytest.fail(f"{name} was not built")
    url = open_page(visit, site, name)
    shown = url.removeprefix(site) if url.removeprefix(site) == name else f"{name} -> {url.removeprefix(site)}"

    problems = []
    needed = [f"{kind} {u}" for kind, u in visit.blocked
              if kind in RENDER_TYPES or "mathjax" in u.lower()]
    if needed:
        problems.append(f"needs resources from outside the machine (blocked): {needed}")
    if visit.failed:
        problems.append(f"local requests that failed: {visit.failed}")
    if visit.errors:
        problems.append(f"JavaScript errors: {visit.errors}")

    maths = visit.page.evaluate(MATHS_REPORT)
    if maths["maths"] and not maths["containers"]:
        problems.append(f"{maths['maths']} maths elements (class math) but no mjx-container")
    if maths["untypeset"]:
        problems.append(f"maths not typeset by MathJax: {maths['untypeset']}")
    if maths["invisible"]:
        problems.append(f"typeset maths with zero size: {maths['invisible']}")
    if maths["merrors"]:
        problems.append(f"MathJax errors (mjx-merror): {maths['merrors']}")
    if maths["raw"]:
        problems.append(f"raw TeX left unrendered in the text: {maths['raw']}")

    broken = visit.page.evaluate(IMAGES_REPORT)
    if broken:
        problems.append(f"images that did not load: {broken}")
    assert not problems, f"{shown}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", PAGES)
def test_internal_links_resolve(visit, site, built_book, name):
    if not (built_book / "html" / name).is_file():
        pytest.fail(f"{name} was not built")
    open_page(visit, site, name, maths=False)
    broken = []
    for link in visit.page.evaluate(LINKS):
        href = link["href"]
        if not is_internal(href, site):
            continue
        target, fragment = urldefrag(href)
        status, _ = fetch(target.split("?")[0])
        if status != 200:
            broken.append(f"<a href={link['raw']!r}> ({link['text']!r}): HTTP {status} for {target}")
        elif fragment and unquote(fragment) not in ids_of(target.split("?")[0]):
            broken.append(f"<a href={link['raw']!r}> ({link['text']!r}): no id {fragment!r} in {target}")
    assert not broken, f"{name}: broken internal links:\n  " + "\n  ".join(broken)


def test_maths_is_typeset_somewhere(visit, site):
    """Guards against the maths checks passing vacuously: the landing page shows equations."""
    open_page(visit, site, f"{TOC_PAGES[0]}.html")
    count = visit.page.locator("mjx-container").count()
    assert count > 0, f"{TOC_PAGES[0]}.html: no typeset maths (mjx-container) on the landing page"


def test_search_finds_mixtures(visit, site):
    page = visit.page
    page.goto(site + "search.html?q=mixture", wait_until="load")
    # Sphinx's searchtools fills the summary line only once the search has finished.
    try:
        page.wait_for_function(
            "() => { const s = document.querySelector('#search-results .search-summary');"
            " return s && s.innerText.trim().length > 0; }")
    except Exception:  # noqa: BLE001 - report what the page shows instead of a bare time-out
        pytest.fail(f"search.html?q=mixture: the search never finished; "
                    f"JavaScript errors: {visit.errors}; blocked requests: {visit.blocked}")
    summary = page.locator("#search-results .search-summary").inner_text()
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    assert any(urlsplit(h).path.endswith("/mixtures.html") for h in hrefs), (
        f"search.html?q=mixture: no result links to mixtures.html; "
        f"the page says {summary!r}; results: {hrefs}")
    assert not visit.errors, f"search.html?q=mixture: JavaScript errors: {visit.errors}"
