"""`python -m autograder doctor`: one line per check, what to do on failure, exit 1 if any fails."""
import os
import subprocess
import sys

import pytest

from autograder import doctor

ROOT = doctor.ROOT


def run_doctor(**env):
    return subprocess.run([sys.executable, "-m", "autograder", "doctor"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})


def test_the_course_environment_passes_every_check():
    result = run_doctor()
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(lines) == len(doctor.CHECKS) + 1 and lines[-1] == "Ready for the course."
    assert all(line.startswith("ok    ") for line in lines[:-1]), lines
    assert result.stderr == ""


def test_a_broken_sandbox_is_the_one_failing_line_and_says_what_to_do():
    result = run_doctor(AUTOGRADER_BWRAP="/nonexistent/bwrap")
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert result.returncode == 1
    assert failing == ["FAIL  sandbox: graded code would not be isolated (AUTOGRADER_BWRAP=/nonexistent/bwrap "
                       "is not an executable file) — to fix: unset AUTOGRADER_BWRAP, or point it at a working bwrap"]
    assert result.stdout.splitlines()[-1].startswith("1 check failed: fix it and run `python -m autograder doctor`")


def course_folder(tmp_path, requirements, constraints):
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "constraints.txt").write_text(constraints)
    return tmp_path


def test_a_package_at_another_version_than_its_pin_fails_and_names_both(tmp_path, monkeypatch):
    from importlib.metadata import version
    monkeypatch.setattr(doctor, "ROOT", course_folder(
        tmp_path, "numpy   # arrays\nscipy\nnot-a-course-package-xyz\nbwrap-only; sys_platform == 'nonexistent'\n",
        f"numpy==0.0.1\nscipy=={version('scipy')}\n"))
    finding = doctor.check_packages()
    assert not finding.ok
    assert finding.what == (f"packages: 2 of 3 not as pinned: numpy {version('numpy')} (pinned 0.0.1), "
                            "not-a-course-package-xyz missing")
    assert "make env" in finding.fix


def test_a_missing_mpiexec_fails_with_the_install_command(monkeypatch, tmp_path):
    import astrostats.parallel
    monkeypatch.setattr(astrostats.parallel, "mpiexec_path", lambda: str(tmp_path / "mpiexec"))
    finding = doctor.check_mpi()
    assert (finding.ok, finding.what) == (False, f"no mpiexec next to this Python ({tmp_path / 'mpiexec'})")
    assert "pip install mpi4py mpich" in finding.fix


def test_a_check_that_raises_is_reported_and_the_others_still_run():
    def check_broken():
        raise RuntimeError("boom")

    findings = list(doctor.run_checks((check_broken, doctor.check_python)))
    assert [f.ok for f in findings] == [False, True]
    assert findings[0].what == "broken: could not be checked (RuntimeError)"


@pytest.mark.parametrize("version_spec, ok", [(">=3.11", True), (">=9.0", False)])
def test_the_python_check_reads_requires_python(tmp_path, monkeypatch, version_spec, ok):
    (tmp_path / "pyproject.toml").write_text(f'[project]\nrequires-python = "{version_spec}"\n')
    monkeypatch.setattr(doctor, "ROOT", tmp_path)
    assert doctor.check_python().ok is ok
