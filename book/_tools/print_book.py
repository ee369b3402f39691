"""Print the built book to one PDF, offline: ``python book/_tools/print_book.py _build/html``.

Each page of the table of contents, in order, is opened in headless Chromium (Debian's, driven
by Playwright; ``CHROMIUM`` names another) from a server on 127.0.0.1, with its maths typeset,
its images loaded and its solutions and hidden cells opened, and printed with the book's print
stylesheet; the pages are joined into ``course-book.pdf`` with one bookmark per page. A PDF newer
than every page is kept as it is; without a Chromium the PDF is skipped with a one-line message
(the book itself is complete).
"""
import os
import sys
from io import BytesIO
from pathlib import Path

from local_site import WAIT_FOR_MATHJAX, served, toc_pages
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parents[2]
BOOK_PDF = "course-book.pdf"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TIMEOUT_MS = 60_000

OPEN_AND_LOAD = """async () => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('img').forEach(img => { img.loading = 'eager'; });
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(done => { img.onload = img.onerror = done; })));
}"""


def is_up_to_date(target: Path, html: Path, toc: Path) -> bool:
    """Whether the PDF is newer than every page it prints and the book's styles (a no-op
    rebuild then stays fast)."""
    sources = [html / f"{name}.html" for name in toc_pages(toc)] + list((html / "_static").glob("*.css"))
    return target.is_file() and all(target.stat().st_mtime >= p.stat().st_mtime for p in sources if p.is_file())


def print_book(html: Path, toc: Path) -> Path:
    """Print every TOC page of the site in ``html`` and join them; returns the PDF's path."""
    from playwright.sync_api import sync_playwright

    writer = PdfWriter()
    with served(html) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        for name in toc_pages(toc):
            page.goto(f"{base}{name}.html", wait_until="load")
            page.evaluate(OPEN_AND_LOAD)
            if page.evaluate(WAIT_FOR_MATHJAX) == "MathJax never started":
                raise RuntimeError(f"{name}.html: MathJax never started, so its maths would print as TeX")
            first = len(writer.pages)
            writer.append(PdfReader(BytesIO(page.pdf(format="A4", print_background=True,
                                                     margin={"top": "15mm", "bottom": "15mm",
                                                             "left": "15mm", "right": "15mm"}))))
            writer.add_outline_item(title=page.title().split(" — ")[0].strip(), page_number=first)
        browser.close()
    writer.add_metadata({"/Title": "Astro-statistics: models, inference and computing"})
    target = html / BOOK_PDF
    with open(target, "wb") as out:
        writer.write(out)
    return target


def main(argv: list[str]) -> int:
    html = Path(argv[1]) if len(argv) > 1 else ROOT / "_build" / "html"
    toc = Path(argv[2]) if len(argv) > 2 else ROOT / "_toc.yml"
    if not (html / "index.html").is_file():
        print(f"print_book: no built book in {html}: run `make book` first", file=sys.stderr)
        return 1
    if not os.access(CHROMIUM, os.X_OK):
        print(f"print_book: skipped the PDF: no Chromium at {CHROMIUM} (`make browser` installs it, "
              "or set CHROMIUM)", file=sys.stderr)
        return 0
    target = html / BOOK_PDF
    if is_up_to_date(target, html, toc):
        print(f"The book's PDF is up to date: {target}")
        return 0
    target = print_book(html, toc)
    print(f"The book's PDF is at {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
