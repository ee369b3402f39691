"""The grading service as a JupyterHub-managed service, behind a real hub and its proxy.

The hub (``jupyterhub``, from PyPI) starts ``python -m autograder serve`` itself from the
``c.JupyterHub.services`` entry of the README (read from it, with this test's paths and port), with the hub's environment
(``JUPYTERHUB_SERVICE_PREFIX``); configurable-http-proxy (npm, installed by ``make test`` or
``make hub-proxy`` into ``.node/``) routes ``/services/autograder/`` to it. A student submits through the hub's public
URL and gets the same result as from the service directly; the service's own token check still
applies behind the hub.
"""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service_support import ROOT, autograder, free_port, issue_tokens, make_course, wait_until_serving

PROXY = ROOT / ".node" / "node_modules" / ".bin" / "configurable-http-proxy"
HUB = Path(sys.executable).with_name("jupyterhub")

HUB_CONFIG = """\
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {hub_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_api_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "jupyterhub_cookie_secret"
"""


def readme_service_entry(python: str, course: str, port: int) -> str:
    """The README's ``jupyterhub_config.py`` block, with this test's paths and port."""
    block = re.search(r"```python\n# jupyterhub_config.py\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md lost its jupyterhub_config.py example"
    return (block.group(1).replace("/srv/course/.venv/bin/python", python)
            .replace("/srv/course", course).replace("8000", str(port)))


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A running hub whose managed service grades the mixtures exercise; yields (url, tokens)."""
    for tool, make in ((HUB, "make env"), (PROXY, "make hub-proxy")):
        assert tool.exists(), f"{tool} is missing: run `{make}` (`make test` runs both)"
    root = tmp_path_factory.mktemp("hub")
    course = make_course(root / "course", ["alice"])
    tokens = issue_tokens(course, "alice")
    ports = {name: free_port() for name in ("hub_port", "hub_api_port", "proxy_api_port", "service_port")}
    (root / "jupyterhub_config.py").write_text(
        HUB_CONFIG.format(**ports, proxy=str(PROXY))
        + readme_service_entry(sys.executable, str(course), ports["service_port"]))
    log = open(root / "hub.log", "w")
    process = subprocess.Popen([str(HUB), "-f", "jupyterhub_config.py"], cwd=root, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, "PATH": f"{HUB.parent}:{os.environ['PATH']}"})
    url = f"http://127.0.0.1:{ports['hub_port']}/services/autograder"
    try:
        wait_until_serving(process, url, root / "hub.log", 120)
        yield url, tokens, course
    finally:
        os.killpg(process.pid, signal.SIGTERM)       # the hub stops its managed service and the proxy
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_the_hub_routes_its_service_prefix_to_the_grader(hub):
    url, tokens, _ = hub
    reply = httpx.get(url + "/api/me", headers={"Authorization": f"Bearer {tokens['alice']}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["holder"] == "alice"
    assert httpx.get(url + "/api/me", headers={"Authorization": "Bearer not-a-token"}, timeout=10).status_code == 401


def test_a_student_submits_through_the_hub_and_gets_the_grade(hub, tmp_path):
    url, tokens, course = hub
    result = autograder("submit", str(ROOT / "solutions/mixtures/mixtures.ipynb"), "--server", url,
                        cwd=tmp_path, env={"AUTOGRADER_TOKEN": tokens["alice"]})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "mixtures: attempt 1, graded, 11 / 11 points"
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("mixtures", "alice").score == 11


def test_the_web_page_and_its_script_come_through_the_hub(hub):
    """The service was given no --prefix: it serves under /services/autograder/ because it read
    the hub's JUPYTERHUB_SERVICE_PREFIX, and the page's relative URLs resolve through the proxy."""
    url, _, _ = hub
    page = httpx.get(url + "/", timeout=10)
    assert page.status_code == 200 and 'src="app.js"' in page.text
    script = httpx.get(url + "/app.js", timeout=10)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
