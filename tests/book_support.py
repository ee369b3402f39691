"""What the browser tests of the built book share: the local site, a recording page visit,
and the table of contents. Every request to another host is blocked and recorded."""
import functools
import re
import sys
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_tools"))
from local_site import HOST, WAIT_FOR_MATHJAX, served, toc_pages  # noqa: E402 (the book's tools folder)

TIMEOUT_MS = 30_000
# Resources a page needs to render; none of them may come from another host.
RENDER_TYPES = {"script", "stylesheet", "font", "image", "media"}
# The two sizes a reader uses: a laptop and a phone.
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


TOC_PAGES = toc_pages(ROOT / "_toc.yml")
PAGES = [f"{p}.html" for p in TOC_PAGES] + ["index.html", "search.html", "genindex.html"]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def site(built_book):
    """Serve _build/html on a free port of 127.0.0.1; yields the base URL (ending in /)."""
    with served(built_book / "html") as base:
        yield base


class Visit:
    """A browser page on the local site that records what went wrong while it was open."""

    def __init__(self, browser, viewport=None):
        self.context = browser.new_context(viewport=viewport or DESKTOP)
        self.blocked, self.failed, self.errors = [], [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("pageerror", self._page_error)
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("requestfailed", self._request_failed)

    def _page_error(self, exc):
        self.errors.append(str(exc))

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"console.error: {message.text}")

    def _route(self, route):
        request = route.request
        url = urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != HOST:
            self.blocked.append((request.resource_type, request.url))
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def _response(self, response):
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def _request_failed(self, request):
        already = any(entry.endswith(" " + request.url) for entry in self.failed)
        if urlsplit(request.url).hostname == HOST and not already:
            self.failed.append(f"{request.failure} {request.url}")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser):
    v = Visit(browser)
    yield v
    v.close()


@functools.lru_cache(maxsize=None)
def fetch(url: str) -> tuple[int, str]:
    """GET a local URL (no proxy); returns (status, text)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as response:
            body = response.read()
            is_html = "html" in response.headers.get("Content-Type", "")
            return response.status, body.decode("utf-8", "replace") if is_html else ""
    except urllib.error.HTTPError as err:
        return err.code, ""


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)


@functools.lru_cache(maxsize=None)
def ids_of(url: str) -> frozenset:
    parser = _Ids()
    parser.feed(fetch(url)[1])
    return frozenset(parser.ids)


# --------------------------------------------------------------------------- in the page

MATHS_REPORT = r"""() => {
  const short = el => el.outerHTML.slice(0, 160);
  const maths = Array.from(document.querySelectorAll('.math'));
  const untypeset = maths.filter(el => !el.querySelector('mjx-container')).map(short);
  const invisible = Array.from(document.querySelectorAll('mjx-container'))
    .filter(el => { const r = el.getBoundingClientRect(); return r.width === 0 || r.height === 0; })
    .filter(el => el.offsetParent !== null).map(short);
  const merrors = Array.from(document.querySelectorAll('mjx-merror'))
    .map(el => (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 160));
  // Raw TeX left in visible prose (code blocks may legitimately show TeX).
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .MathJax_Preview';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip)) continue;
    if (/\\\(|\\\[|\$\$|\\begin\{/.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 160));
  }
  return {maths: maths.length, containers: document.querySelectorAll('mjx-container').length,
          untypeset, invisible, merrors, raw};
}"""

IMAGES_REPORT = """async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) { img.loading = 'eager'; }
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done); img.addEventListener('error', done);
    setTimeout(done, 15000);
  })));
  return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
             .map(img => img.outerHTML.slice(0, 200));
}"""

LINKS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => ({
  href: a.href, raw: a.getAttribute('href'), text: a.textContent.trim().slice(0, 60)}))"""


REFRESH = re.compile(
    r"""<meta[^>]*http-equiv=["']?refresh["']?[^>]*content=["']?\d+\s*;\s*url=([^"'>]+)""", re.I)


def open_page(visit: Visit, site: str, name: str, maths: bool = True) -> str:
    """Open a page, follow a meta-refresh redirect and (if `maths`) wait for MathJax to finish
    typesetting; returns the final URL."""
    page = visit.page
    refresh = REFRESH.search(fetch(site + name)[1])
    response = page.goto(site + name, wait_until="load")
    assert response is not None and response.ok, (
        f"{name}: HTTP {response.status if response else 'no response'}")
    if refresh:  # e.g. index.html -> intro.html
        target = urljoin(site + name, refresh.group(1).strip())
        page.wait_for_url(target, wait_until="load")
    if maths:
        state = page.evaluate(WAIT_FOR_MATHJAX)
        assert state != "MathJax never started", (
            f"{name}: the page has maths but MathJax never started; blocked requests: "
            f"{visit.blocked}; failed local requests: {visit.failed}; JavaScript errors: {visit.errors}")
    return page.url


def is_internal(href: str, site: str) -> bool:
    return href.startswith(site)


