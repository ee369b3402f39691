"""The reference solution of the parallel exercise, and the astrostats helpers it relies on,
reproduce closed forms and the serial computations they parallelise."""
import math
import os
import sys
import types

import cloudpickle
import numpy as np
import pytest
from scipy import stats

from astrostats import parallel as helpers
from autograder.assemble import notebook_cells
from autograder.course import Assignment
from autograder.notebook import ANSWER, LOCKED, read_notebook


@pytest.fixture(scope="module")
def ref():
    """The setup and answer cells of the reference solution, run in a module of this process.

    A real module (registered in sys.modules) lets process pools pickle its functions by
    reference; cloudpickle sends them by value to MPI ranks, as it does from a notebook.
    """
    module = types.ModuleType("parallel_reference")
    sys.modules[module.__name__] = module
    cloudpickle.register_pickle_by_value(module)
    for cell in notebook_cells(read_notebook(Assignment("parallel").source)):
        if cell.role in (ANSWER, LOCKED):
            exec(compile(cell.source, cell.id, "exec"), module.__dict__)
    yield module
    cloudpickle.unregister_pickle_by_value(module)
    del sys.modules[module.__name__]


# --- Q1: balanced chunks ----------------------------------------------------------------------

def test_chunks_are_those_of_numpy_array_split(ref):
    for n_items in range(0, 40):
        for n_chunks in range(1, 9):
            pieces = np.array_split(np.arange(n_items), n_chunks)
            assert [b - a for a, b in ref.chunk_bounds(n_items, n_chunks)] == [p.size for p in pieces]
            assert [a for a, _ in ref.chunk_bounds(n_items, n_chunks)] == \
                [int(np.sum([q.size for q in pieces[:k]])) for k in range(n_chunks)]


# --- Q2: a parallel map -----------------------------------------------------------------------

@pytest.mark.parametrize("n_workers", [1, 2, 3, 7])
def test_parallel_map_equals_the_serial_map(ref, n_workers):
    items = list(np.linspace(-3.0, 40.0, 13))
    assert ref.parallel_map(math.erfc, items, n_workers) == [math.erfc(x) for x in items]


def _process_id(_):
    return os.getpid()


def test_parallel_map_runs_in_other_processes(ref):
    assert os.getpid() not in ref.parallel_map(_process_id, range(3), 2)


# --- Q3: transit probability, one random stream per task ------------------------------------

R_SUN_OVER_AU = 695_700.0 / 149_597_870.7   # IAU 2015 nominal solar radius / au


@pytest.mark.parametrize("radius_over_a", [R_SUN_OVER_AU, 0.1])
def test_transit_fraction_converges_to_r_over_a(ref, radius_over_a):
    """Borucki & Summers (1984): for randomly oriented circular orbits the transit
    probability is R_star / a. 8 tasks x 100 000 draws: within 4 binomial sigma."""
    n = 8 * 100_000
    fraction = ref.transit_fraction(2024, 8, 100_000, radius_over_a, n_workers=2)
    assert abs(fraction - radius_over_a) < 4 * math.sqrt(radius_over_a * (1 - radius_over_a) / n)


def test_transit_fraction_uses_spawned_streams_and_ignores_the_worker_count(ref):
    children = np.random.SeedSequence(99).spawn(5)
    expected = sum(int(np.sum(np.random.default_rng(c).random(3000) < 0.2)) for c in children) / 15_000
    for n_workers in (1, 2, 4):
        assert ref.transit_fraction(99, 5, 3000, 0.2, n_workers=n_workers) == expected


# --- Q4 and Q5: Amdahl's law ------------------------------------------------------------------

def test_amdahl_limits_and_closed_form(ref):
    n = np.array([1, 2, 8, 1e12])
    assert ref.amdahl_speedup(0.0, n) == pytest.approx(n)
    assert ref.amdahl_speedup(1.0, n) == pytest.approx(np.ones(4))
    assert ref.amdahl_speedup(0.05, n)[-1] == pytest.approx(20.0)           # 1/s
    assert ref.amdahl_speedup(0.05, 57) == pytest.approx(15.0, abs=0.01)      # the chapter's exercise


@pytest.mark.parametrize("s, t1, cores", [(0.1, 100.0, [1, 2, 4, 8]), (0.003, 42.0, [1, 16, 64, 256]),
                                          (0.5, 7.0, [2, 3, 5])])
def test_fit_recovers_exact_amdahl_timings(ref, s, t1, cores):
    cores = np.array(cores, float)
    fitted_s, fitted_t1 = ref.fit_serial_fraction(cores, t1 * (s + (1 - s) / cores))
    assert fitted_s == pytest.approx(s, rel=1e-9)
    assert fitted_t1 == pytest.approx(t1, rel=1e-9)


def test_fit_is_least_squares_in_one_over_n(ref):
    cores = np.array([1, 2, 4, 8, 16, 32, 64], float)
    times = 250.0 * (0.07 + 0.93 / cores) * (1.0 + 0.04 * np.sin(7.0 * cores))
    b, a = np.polyfit(1.0 / cores, times, 1)
    assert ref.fit_serial_fraction(cores, times) == pytest.approx((a / (a + b), a + b), rel=1e-10)


def test_two_timings_give_the_karp_flatt_fraction_of_the_emcee_tutorial(ref):
    """emcee's tutorial: 21.5 s serial, 6.5 s on 4 processes. Karp & Flatt (1990):
    e = (1/S - 1/n) / (1 - 1/n) = 0.0548."""
    s, t1 = ref.fit_serial_fraction([1, 4], [21.5, 6.5])
    assert s == pytest.approx((6.5 / 21.5 - 0.25) / 0.75, rel=1e-10)
    assert round(s, 4) == 0.0698 and t1 == pytest.approx(21.5)


# --- Q6: the MPI reduction, under a real mpiexec ---------------------------------------------

@pytest.mark.parametrize("n_ranks", [1, 2, 3])
def test_mpi_log_likelihood_equals_the_serial_closed_form(ref, n_ranks):
    v, e = helpers.simulate_velocities(501, 10.0, 6.0, seed=3)
    expected = stats.norm.logpdf(v, 11.0, np.sqrt(6.5**2 + e**2)).sum()
    total = helpers.run_with_mpiexec(ref.mpi_log_likelihood, v, e, 11.0, 6.5, n_ranks=n_ranks)
    assert total == pytest.approx(expected, rel=1e-12)


# --- astrostats.parallel, which the chapter and the exercise rely on --------------------------

def test_quadrature_matches_the_closed_form_when_the_population_is_wider_than_the_errors():
    v, e = helpers.simulate_velocities(2000, 0.0, 9.0, seed=5)                # errors 1-6 km/s
    for dispersion in (6.0, 9.0, 20.0):
        assert helpers.star_log_likelihoods(v, e, 0.5, dispersion) == \
            pytest.approx(helpers.star_log_likelihoods_exact(v, e, 0.5, dispersion), abs=1e-7)
    assert helpers.star_log_likelihoods_exact(v, e, 0.5, 9.0) == \
        pytest.approx(stats.norm.logpdf(v, 0.5, np.sqrt(81.0 + e**2)), rel=1e-12)


def test_chunk_log_likelihood_sums_the_stars_for_every_parameter_point():
    v, e = helpers.simulate_velocities(20_000, 3.0, 9.0, seed=6)
    thetas = [(3.0, 8.0), (2.0, 10.0)]
    totals = helpers.chunk_log_likelihood(v, e, thetas, block=3000)
    assert totals == pytest.approx([helpers.star_log_likelihoods(v, e, m, d).sum() for m, d in thetas], rel=1e-13)


def test_run_with_mpiexec_reports_an_error_on_any_rank():
    def fails_on_rank_1(comm):
        if comm.Get_rank() == 1:
            raise ValueError("rank 1 cannot read its file")
        return comm.reduce(1, root=0)

    with pytest.raises(RuntimeError, match="rank 1 cannot read its file"):
        helpers.run_with_mpiexec(fails_on_rank_1, n_ranks=2)


def test_run_with_mpiexec_gives_only_rank_0_the_arguments():
    def who_has_what(comm, payload):
        return comm.gather((comm.Get_rank(), payload), root=0)

    assert helpers.run_with_mpiexec(who_has_what, "catalogue", n_ranks=3) == \
        [(0, "catalogue"), (1, None), (2, None)]
