"""The students' JupyterLab (config/student-lab) against the instructor's: what each serves."""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from service_support import free_port

ROOT = Path(__file__).resolve().parent.parent
STUDENT_CONFIG = ROOT / "config" / "student-lab"
HIDDEN = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
          "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:validate-assignment"}


@pytest.fixture
def lab(tmp_path):
    """lab(config_dir) -> (base url, token) of a real JupyterLab on 127.0.0.1."""
    started = []

    def start(config_dir: Path):
        port, token = free_port(), "test-token"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyter"), "lab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={tmp_path}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/status?token={token}", timeout=2).status_code == 200:
                    return base, token
            except httpx.TransportError:
                time.sleep(0.3)
        raise AssertionError("JupyterLab did not start")
    yield start
    for process in started:
        process.kill()
        process.wait(10)


def page_config(base: str, token: str) -> dict:
    page = httpx.get(f"{base}/lab?token={token}", timeout=30).text
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def test_students_see_no_instructor_tools_and_no_second_validate(lab):
    base, token = lab(STUDENT_CONFIG)
    disabled = set(page_config(base, token)["disabledExtensions"])
    assert HIDDEN <= disabled
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    assert httpx.get(f"{base}/formgrader?token={token}", timeout=30).status_code == 404


def test_the_instructors_lab_keeps_every_nbgrader_tool(lab, tmp_path):
    (tmp_path / "instructor").mkdir()
    base, token = lab(tmp_path / "instructor")
    assert not HIDDEN & set(page_config(base, token)["disabledExtensions"])
    assert httpx.get(f"{base}/formgrader?token={token}", timeout=30, follow_redirects=True).status_code == 200
