"""The parallel chapter's helpers in astrostats: the halo exchange and the MPI pools under a real
mpiexec, and the job-array task."""
import numpy as np
import pytest

from astrostats.halo import diffuse_mpi, diffuse_serial
from astrostats.parallel import run_with_mpiexec


def test_a_pulse_spreads_with_the_variance_of_a_random_walk():
    """Closed form: the stencil (nu, 1 - 2 nu, nu) adds 2 nu to the variance at every step."""
    u = np.zeros(301)
    u[150] = 1.0
    grid = diffuse_serial(u, 300, nu=0.2)
    x = np.arange(grid.size)
    mean = np.sum(grid * x) / grid.sum()
    assert grid.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.sum(grid * (x - mean) ** 2) / grid.sum() == pytest.approx(2 * 0.2 * 300, rel=1e-9)


def test_absorbing_ends_lose_mass_once_the_pulse_reaches_them():
    grid = diffuse_serial(np.ones(10), 200)
    assert 0 < grid.sum() < 1 and grid[0] < grid[5]


@pytest.mark.parametrize("n_ranks", [1, 2, 3, 4])
def test_the_halo_exchange_equals_the_serial_run_bit_for_bit(n_ranks):
    rng = np.random.default_rng(n_ranks)
    u0 = rng.uniform(0, 1, 103)           # not divisible by 2, 3 or 4: unequal slabs
    grid, messages = run_with_mpiexec(diffuse_mpi, u0, 50, 0.25, n_ranks=n_ranks)
    assert np.array_equal(grid, diffuse_serial(u0, 50))
    assert messages == 2 * (n_ranks - 1) * 50      # two per neighbouring pair per step


@pytest.mark.parametrize("library", ["mpipool", "schwimmbad"])
def test_the_mpi_pool_libraries_return_the_serial_map_in_order(library, tmp_path):
    from astrostats.parallel import run_mpi_module
    from astrostats.parallel_mpi_pools import DISPERSIONS, log_likelihood

    serial = [log_likelihood(d) for d in DISPERSIONS]
    for run in range(5):     # closing a schwimmbad pool twice failed about one run in twenty
        run_mpi_module("astrostats.parallel_mpi_pools", library, tmp_path / f"{run}.npy",
                       n_ranks=3, cwd=tmp_path)
        assert np.array_equal(np.load(tmp_path / f"{run}.npy"), serial)


def test_an_array_task_depends_on_its_id_only():
    from astrostats.parallel_array_task import N_TASKS, task_result

    first = [task_result(i) for i in range(N_TASKS)]
    assert all(np.array_equal(task_result(i), first[i]) for i in reversed(range(N_TASKS)))
    assert not np.array_equal(first[0], first[1])          # independent streams, not copies


def test_the_python_numpy_and_numba_likelihoods_agree_with_the_closed_form():
    """All three by the same quadrature; for a Gaussian population it matches the closed form."""
    from astrostats.parallel import simulate_velocities, star_log_likelihoods_exact
    from astrostats.parallel_speed import log_likelihood_numba, log_likelihood_numpy, log_likelihood_python

    v, e = simulate_velocities(500, 52.0, 9.0, seed=3)
    values = [f(v, e, 51.0, 8.5) for f in (log_likelihood_python, log_likelihood_numpy, log_likelihood_numba)]
    assert values[0] == pytest.approx(values[1], rel=1e-12) and values[2] == pytest.approx(values[1], rel=1e-12)
    assert values[1] == pytest.approx(star_log_likelihoods_exact(v, e, 51.0, 8.5).sum(), rel=1e-6)
