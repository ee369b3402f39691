"""What each page of the built book makes a reader download, by kind, on a first visit.

Usage: `.venv/bin/python benchmarks/page_weight.py [_build/html]` after `make book` (also in
`make bench`). Each page of the table of contents is opened in a fresh Chromium context (empty
cache) from a server on 127.0.0.1; the bytes of every response are summed by kind (the page,
scripts, styles, fonts, images, the search index) and the three largest files are named.
Prints one line per page and the target (≤ 3 MB per page on a first visit); exits 0.
"""
import collections
import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import sync_playwright
from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
TARGET_MB = 3.0
TYPESET = """async () => {
  if (!document.querySelector('.math')) return;
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise))
    await new Promise(r => setTimeout(r, 50));
  await MathJax.startup.promise;
}"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def kind(url: str, resource_type: str) -> str:
    if "searchindex" in url:
        return "search index"
    return {"document": "page", "script": "scripts", "stylesheet": "styles", "font": "fonts",
            "image": "images"}.get(resource_type, "other")


def main() -> None:
    html = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name in parse_toc_yaml(ROOT / "_toc.yml"):
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
            page.evaluate(TYPESET)   # MathJax loads its fonts while it typesets
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
    server.shutdown()


if __name__ == "__main__":
    main()
