"""What each page of the built book makes a reader download, by kind, on a first visit.

Usage: `.venv/bin/python benchmarks/page_weight.py [_build/html]` after `make book` (also in
`make bench`). Each page of the table of contents is opened in a fresh Chromium context (empty
cache) from a server on 127.0.0.1; the bytes of every response are summed by kind (the page,
scripts, styles, fonts, images, the search index) and the three largest files are named.
Prints one line per page and the target (≤ 3 MB per page on a first visit); exits 0.
"""
import collections
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_tools"))
from local_site import WAIT_FOR_MATHJAX, served, toc_pages  # noqa: E402 (the book's tools folder)

CHROMIUM = "/usr/bin/chromium"
TARGET_MB = 3.0


def kind(url: str, resource_type: str) -> str:
    if "searchindex" in url:
        return "search index"
    return {"document": "page", "script": "scripts", "stylesheet": "styles", "font": "fonts",
            "image": "images"}.get(resource_type, "other")


def main() -> None:
    html = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"
    with served(html) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name in toc_pages(ROOT / "_toc.yml"):
            context = browser.new_context()
            page, sizes, kinds = context.new_page(), {}, {}

            def record(response):
                try:
                    sizes[response.url] = len(response.body())
                    kinds[response.url] = kind(response.url, response.request.resource_type)
                except Exception:  # noqa: BLE001 - a redirect or aborted response has no body
                    pass
            page.on("response", record)
            page.goto(f"{base}{name}.html", wait_until="load")
            page.evaluate(WAIT_FOR_MATHJAX)   # MathJax loads its fonts while it typesets
            page.wait_for_load_state("networkidle")
            by_kind = collections.Counter()
            for url, size in sizes.items():
                by_kind[kinds[url]] += size
            total = sum(sizes.values()) / 1e6
            parts = ", ".join(f"{k} {v / 1e3:.0f} kB" for k, v in by_kind.most_common())
            largest = ", ".join(f"{url.removeprefix(base).split('?')[0]} {size / 1e3:.0f} kB"
                                for url, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:3])
            verdict = "" if total <= TARGET_MB else "  MISSED"
            print(f"{name}: {total:.2f} MB (target ≤ {TARGET_MB:.0f} MB){verdict}: {parts}; largest: {largest}")
            context.close()
        browser.close()

if __name__ == "__main__":
    main()
