"""``autograder submit``: send a notebook to the grading service and print its result.

The token comes from the ``AUTOGRADER_TOKEN`` environment variable or a file (default
``~/.autograder-token``), never from the command line, where other users of the machine
could read it. Only the standard library is used, so it runs in any Python 3.
"""
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import AutograderError

TOKEN_FILE = Path("~/.autograder-token")
WAIT_SECONDS = 900.0     # how long to wait for a verdict before saying where to look later
POLL_SECONDS = 0.5


def read_token(token_file: Path | None) -> str:
    token = os.environ.get("AUTOGRADER_TOKEN", "").strip()
    if token:
        return token
    path = (token_file or TOKEN_FILE).expanduser()
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError:
        token = ""
    if not token:
        raise AutograderError(f"no token: put the one your instructor gave you in {path} (or in the "
                              "AUTOGRADER_TOKEN environment variable), then submit again")
    return token


def _call(url: str, token: str, data: bytes | None = None) -> dict:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/x-ipynb+json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        try:
            why = json.loads(err.read()).get("error") or f"HTTP {err.code}"
        except ValueError:
            why = f"HTTP {err.code}"
        raise AutograderError(f"the server refused: {why}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise AutograderError(f"cannot reach the grading service at {url} ({reason}): check the "
                              "--server address and your network") from None


def submit(notebook: Path, server: str, assignment: str | None, token: str,
           wait_seconds: float = WAIT_SECONDS) -> dict:
    """Upload ``notebook`` and wait for its recorded result (the attempt, as the API shows it)."""
    try:
        data = notebook.read_bytes()
    except OSError as err:
        raise AutograderError(f"cannot read {notebook} ({err.strerror}): check the path") from None
    base = server.rstrip("/")
    name = assignment or notebook.stem
    attempt = _call(f"{base}/api/assignments/{urllib.request.quote(name, safe='')}/submissions", token, data)
    deadline = time.monotonic() + wait_seconds
    while attempt["state"] != "done":
        if time.monotonic() > deadline:
            raise AutograderError(f"no verdict after {wait_seconds:g} s (the queue is long): your attempt "
                                  f"{attempt['id']} is kept and will be graded; see it on {base}/")
        time.sleep(POLL_SECONDS)
        attempt = _call(f"{base}/api/attempts/{attempt['id']}", token)
    return attempt
