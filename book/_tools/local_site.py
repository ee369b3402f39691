"""The built book served on 127.0.0.1 for a headless browser, and what such a browser waits for:
shared by print_book.py, benchmarks/page_weight.py and the browser tests."""
import functools
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sphinx_external_toc.parsing import parse_toc_yaml

HOST = "127.0.0.1"

# Resolves to 'no maths', 'typeset' or, after 20 s, 'MathJax never started'.
WAIT_FOR_MATHJAX = """async () => {
  if (!document.querySelector('.math')) return 'no maths';
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > 20000) return 'MathJax never started';
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  return 'typeset';
}"""


def toc_pages(toc: Path) -> list[str]:
    """Every document named in a table of contents, root first (relative to book/, no suffix)."""
    return list(parse_toc_yaml(toc))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def served(html: Path):
    """Serve the folder ``html`` on a free port of 127.0.0.1; yields the base URL (ending in /)."""
    server = ThreadingHTTPServer((HOST, 0), functools.partial(_Quiet, directory=str(html)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
