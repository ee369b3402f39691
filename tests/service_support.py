"""A throw-away course served by a real `python -m autograder serve` process on 127.0.0.1."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_course(root: Path, students: list[str], service_toml: str = "", assignments=("mixtures",)) -> Path:
    for name in assignments:
        shutil.copytree(ROOT / "solutions" / name, root / "solutions" / name)
    for student in students:
        nbgrader("db", "student", "add", student, cwd=root)
    if service_toml:
        (root / "service.toml").write_text(service_toml)
    return root


def nbgrader(*args, cwd: Path) -> None:
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def autograder(*args, cwd: Path, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def issue_tokens(course: Path, *names: str) -> dict[str, str]:
    result = autograder("tokens", "issue", *names, "--course", str(course), cwd=course)
    assert result.returncode == 0, result.stderr
    return dict(line.split("\t") for line in result.stdout.splitlines() if not line.startswith("#"))


def wait_until_serving(process: subprocess.Popen, url: str, log: Path, seconds: float) -> None:
    """Return once ``url``/api/me answers 401 (the service is up and asks for a token); fail with
    the end of ``log`` if ``process`` exits first or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(url + "/api/me", timeout=2).status_code == 401:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the service at {url} did not start:\n" + log.read_text()[-3000:])


class Server:
    """`autograder serve` for ``course``, started and stopped (or killed) by the test."""

    def __init__(self, course: Path, workers: int = 2, prefix: str = ""):
        self.course, self.workers, self.port, self.prefix = course, workers, free_port(), prefix
        self.url = f"http://127.0.0.1:{self.port}{prefix}"
        self.process = None

    def start(self, wait_seconds: float = 60) -> "Server":
        self.log = open(self.course / f"serve-{time.time_ns()}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder", "serve", "--course", str(self.course), "--port", str(self.port),
             "--workers", str(self.workers), "--prefix", self.prefix], cwd=self.course, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until_serving(self.process, self.url, Path(self.log.name), wait_seconds)
        return self

    def kill(self) -> None:
        """SIGKILL the server process only (its grader must die with it)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()

    def post(self, token: str | None, data: bytes, assignment: str = "mixtures", headers=None):
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.url}/api/assignments/{assignment}/submissions", content=data,
                          headers={**auth, **(headers or {})}, timeout=60)

    def get(self, token: str | None, path: str):
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.url + path, headers=auth, timeout=30)

    def verdict(self, token: str, attempt_id: int, wait_seconds: float = 120) -> dict:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            attempt = self.get(token, f"/api/attempts/{attempt_id}").json()
            if attempt["state"] == "done":
                return attempt
            time.sleep(0.2)
        raise AssertionError(f"attempt {attempt_id} was not graded in {wait_seconds} s")
