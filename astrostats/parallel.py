"""Helpers for the parallel-Python chapter and its exercise.

Everything a worker process has to run lives here, in an importable module: a process
started with the ``spawn`` or ``forkserver`` method (or an MPI rank) can import
``astrostats.parallel`` and find these functions, but it cannot find functions that were
typed into a notebook.
"""
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Gauss-Hermite nodes and weights for E[f(u)], u ~ N(v, sigma^2): sum_k w_k f(v + sqrt(2) sigma x_k).
GH_ORDER = 20
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite.hermgauss(GH_ORDER)
GH_OFFSETS = np.sqrt(2.0) * _GH_NODES
GH_WEIGHTS = _GH_WEIGHTS / np.sqrt(np.pi)
LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


# --- busy work ------------------------------------------------------------------------------

def burn_cpu(seconds):
    """Spin until this thread has used `seconds` of CPU time (a stand-in for an expensive model).

    Counting CPU time rather than wall-clock time means that a process waiting for a free
    core does not get its work done for free, so measured speedups are honest.
    """
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def python_sum_of_squares(n):
    """Pure-Python arithmetic: holds the GIL the whole time."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def numpy_work(n, repeats):
    """Large-array numpy work that releases the GIL inside each operation."""
    x = np.linspace(0.0, 1.0, n)
    total = 0.0
    for _ in range(repeats):
        total += float(np.sum(np.sqrt(x) * np.exp(-x)))
    return total


def quiet_worker():
    """Pool initializer: send the worker's error reports to /dev/null (for a tidy demo)."""
    sys.stderr = open(os.devnull, "w")


def wait_for_io(seconds):
    """Waiting for a disk, a network or an instrument: the GIL is released while we wait."""
    time.sleep(seconds)
    return seconds


# --- the velocity-dispersion likelihood ---------------------------------------------------

def simulate_velocities(n_stars, mean, dispersion, seed):
    """Line-of-sight velocities (km/s) of `n_stars` stars drawn from N(mean, dispersion^2),
    each measured with its own Gaussian error between 1 and 6 km/s."""
    rng = np.random.default_rng(seed)
    errors = rng.uniform(1.0, 6.0, n_stars)
    velocities = rng.normal(mean, dispersion, n_stars) + errors * rng.standard_normal(n_stars)
    return velocities, errors


def log_population_density(u, mean, dispersion):
    """ln p(u | mean, dispersion) of the intrinsic velocity distribution (here a Gaussian)."""
    z = (u - mean) / dispersion
    return -0.5 * z**2 - np.log(dispersion) - LOG_SQRT_2PI


def star_log_likelihoods(velocities, errors, mean, dispersion):
    """ln of each star's likelihood, the population density averaged over its measurement
    error, E[p(u)] for u ~ N(v_i, sigma_i^2), by Gauss-Hermite quadrature."""
    u = velocities[:, None] + errors[:, None] * GH_OFFSETS
    log_p = log_population_density(u, mean, dispersion)
    peak = log_p.max(axis=1)
    return peak + np.log(np.exp(log_p - peak[:, None]) @ GH_WEIGHTS)


def star_log_likelihoods_exact(velocities, errors, mean, dispersion):
    """The same for a Gaussian population, in closed form: ln N(v_i | mean, dispersion^2 + sigma_i^2)."""
    variance = dispersion**2 + errors**2
    return -0.5 * (velocities - mean) ** 2 / variance - 0.5 * np.log(variance) - LOG_SQRT_2PI


def chunk_log_likelihood(velocities, errors, thetas, block=8192):
    """Sum of the stars' log-likelihoods for each (mean, dispersion) in `thetas`, shape (G,).

    Works through the stars in blocks that fit in the processor's cache.
    """
    totals = np.zeros(len(thetas))
    for start in range(0, velocities.size, block):
        v, e = velocities[start:start + block], errors[start:start + block]
        for j, (mean, dispersion) in enumerate(thetas):
            totals[j] += star_log_likelihoods(v, e, mean, dispersion).sum()
    return totals


def timed_task(task):
    """Run one task of (index, CPU seconds) and report (index, worker pid, start, end), with
    times from the system-wide monotonic clock, so that workers' times can be compared."""
    index, cost = task
    start = time.monotonic()
    burn_cpu(cost)
    return index, os.getpid(), start, time.monotonic()


# A worker's own copy of the catalogue, set once by `keep_catalogue` (a pool initializer).
_catalogue = {}


def keep_catalogue(velocities, errors):
    """Pool initializer: keep the catalogue in this worker, sent once instead of with every task."""
    _catalogue["velocities"], _catalogue["errors"] = velocities, errors


def resident_chunk_log_likelihood(task):
    """`chunk_log_likelihood` of stars start:stop of the catalogue this worker received from
    `keep_catalogue`; `task` is (start, stop, thetas), a few bytes instead of the data."""
    start, stop, thetas = task
    return chunk_log_likelihood(_catalogue["velocities"][start:stop], _catalogue["errors"][start:stop], thetas)


def chunk_log_likelihood_of(args):
    """`chunk_log_likelihood` with its arguments packed in one tuple, for `map`."""
    return chunk_log_likelihood(*args)


# --- emcee: the set-up of its parallelisation tutorial, scaled down ------------------------
# The tutorial: 32 walkers in 5 dimensions, 100 steps, 5-8 ms of busy work per call.

EMCEE_WALKERS, EMCEE_DIM, EMCEE_STEPS, EMCEE_COST = 32, 5, 20, 0.003


def log_prob_standard_normal(theta, cost=0.0):
    """ln of a standard normal density in any dimension (up to a constant), after burning
    `cost` seconds of CPU time."""
    burn_cpu(cost)
    return -0.5 * float(np.sum(theta**2))


class CostlyLogProb:
    """A picklable callable: `log_prob_standard_normal` with a fixed cost per call."""

    def __init__(self, cost):
        self.cost = cost

    def __call__(self, theta):
        return log_prob_standard_normal(theta, self.cost)


def emcee_initial_state(seed=42):
    """The walkers' starting points and the sampler's random state, both seeded."""
    import emcee

    p0 = np.random.default_rng(seed).standard_normal((EMCEE_WALKERS, EMCEE_DIM))
    return emcee.State(p0, random_state=np.random.RandomState(seed).get_state())


# --- random numbers in worker processes ----------------------------------------------------

def legacy_global_draws(n):
    """n numbers from numpy's legacy global generator (np.random.random)."""
    return np.random.random(n).tolist()


def bootstrap_dispersions(seed_sequence, velocities, errors, n_resamples):
    """Moment estimates of the intrinsic dispersion, sqrt(var(v) - mean(sigma^2)), of
    `n_resamples` bootstrap resamples drawn with a generator of their own."""
    rng = np.random.default_rng(seed_sequence)
    estimates = np.empty(n_resamples)
    for k in range(n_resamples):
        pick = rng.integers(0, velocities.size, velocities.size)
        estimates[k] = np.sqrt(max(velocities[pick].var() - np.mean(errors[pick] ** 2), 0.0))
    return estimates


def bootstrap_task(task):
    """`bootstrap_dispersions` with its arguments packed in one tuple, for `map`."""
    return bootstrap_dispersions(*task)


# --- MPI ------------------------------------------------------------------------------------

def mpiexec_path():
    """The `mpiexec` that belongs to this Python environment (the mpich wheel installs it)."""
    return str(Path(sys.executable).parent / "mpiexec")


def run_mpi_module(module, *arguments, n_ranks=2, timeout=120, cwd=None):
    """Run `python -m module arguments...` on `n_ranks` MPI ranks; return the finished process."""
    command = [mpiexec_path(), "-n", str(n_ranks), sys.executable, "-m", module, *map(str, arguments)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=True)


def run_with_mpiexec(func, *root_args, n_ranks=2, timeout=60):
    """Call ``func(comm, *args)`` on every rank of a fresh ``mpiexec -n n_ranks`` job.

    Rank 0 receives ``root_args``; every other rank receives ``None`` in place of each
    argument, as if only rank 0 had read the input. Returns what ``func`` returned on
    rank 0. ``func`` may be defined in a notebook: it is sent by value with cloudpickle.
    """
    import cloudpickle

    with tempfile.TemporaryDirectory(prefix="mpi-call-") as folder:
        folder = Path(folder)
        (folder / "task.pkl").write_bytes(cloudpickle.dumps((func, root_args)))
        command = [mpiexec_path(), "-n", str(n_ranks), sys.executable, "-I",
                   "-m", "astrostats.parallel_mpi_call", str(folder)]
        try:
            finished = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the MPI job did not finish within {timeout} s: does every rank "
                               "take part in every collective operation?") from None
        errors = sorted(folder.glob("error-*.txt"))
        if errors:
            report = errors[0].read_text(encoding="utf-8")
            # an unanswered exercise stub stays recognisable as one
            error_type = NotImplementedError if report.strip().endswith("NotImplementedError") else RuntimeError
            raise error_type("the function raised an error on an MPI rank:\n" + report)
        if finished.returncode != 0 or not (folder / "result.pkl").is_file():
            raise RuntimeError(f"mpiexec failed (exit code {finished.returncode}):\n{finished.stderr[-2000:]}")
        return pickle.loads((folder / "result.pkl").read_bytes())


class ReductionRecorder:
    """An MPI communicator that notes the numbers this rank sends into reductions.

    Every call goes to the real communicator ``comm``; for ``reduce``, ``allreduce``,
    ``Reduce`` and ``Allreduce`` the operand (with ``MPI.IN_PLACE``, the receive buffer) is
    first added to ``sent`` as a flat list of floats, so a test can see which ranks took part.
    """

    REDUCTIONS = frozenset({"reduce", "allreduce", "Reduce", "Allreduce"})

    def __init__(self, comm):
        self._comm = comm
        self.sent = []

    def __getattr__(self, name):
        method = getattr(self._comm, name)
        if name not in self.REDUCTIONS:
            return method

        def noted(*args, **kwargs):
            from mpi4py import MPI

            operand = args[0] if args else kwargs.get("sendobj", kwargs.get("sendbuf"))
            if operand is MPI.IN_PLACE:
                operand = args[1] if len(args) > 1 else kwargs.get("recvbuf")
            self.sent.extend(_numbers(operand))
            return method(*args, **kwargs)
        return noted


def _numbers(operand):
    """The numbers of a reduction's operand (an object, a buffer or a [buffer, datatype]
    specification) as a list of floats; [nan] for anything that is not numbers."""
    from mpi4py import MPI

    if isinstance(operand, (list, tuple)) and operand and isinstance(operand[-1], MPI.Datatype):
        operand = operand[0]
    try:
        return np.asarray(operand, dtype=float).ravel().tolist()
    except (TypeError, ValueError):
        return [float("nan")]


class RecordingReductions:
    """``func`` called through a ReductionRecorder on every rank: on rank 0 it returns
    ``(func's result, [the numbers rank r sent into reductions, for each rank r])``.
    Pass it to ``run_with_mpiexec`` in place of ``func``."""

    def __init__(self, func):
        self.func = func

    def __call__(self, comm, *args):
        recorder = ReductionRecorder(comm)
        result = self.func(recorder, *args)
        return result, comm.gather(recorder.sent, root=0)
