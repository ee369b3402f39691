"""The parallel-Python chapter reproduces closed forms, published numbers and its own serial results.

The chapter (book/parallel.md) glues its key results with myst-nb's ``glue``; these tests read
them from the built book (the ``built_book`` fixture). Timings are printed by the chapter and
never asserted here: a test only checks that the speedup table was produced, that Amdahl's
prediction next to it is the law's closed form, and that every parallel result EQUALS the
serial one.

Sources:
- the convolution of two Gaussians (the closed-form likelihood of a Gaussian velocity
  population observed with Gaussian errors, as in Walker et al. 2006, AJ 131, 2114);
- Amdahl (1967) and Karp & Flatt (1990, CACM 33, 539) for the speedup laws;
- emcee's parallelisation tutorial (Foreman-Mackey, emcee documentation): 21.5 s serial,
  6.5 s with a multiprocessing pool of 4 ("3.3 times faster") and 8.9 s with MPI on 4 ranks,
  one of them the manager ("2.4 times
  faster") on 4 cores.
"""
import math

import pytest

CHAPTER = "parallel"


def amdahl(s, n):
    return 1.0 / (s + (1.0 - s) / n)


def karp_flatt(speedup, n):
    return (1.0 / speedup - 1.0 / n) / (1.0 - 1.0 / n)


# --- the likelihood: quadrature against the closed form -----------------------------------

def test_quadrature_reproduces_the_gaussian_convolution(glued):
    """Gauss-Hermite quadrature of each star's integral equals ln N(v | mu, tau^2 + sigma^2)
    summed over 300 000 stars (|ln L| ~ 1e6) to better than 1e-6 absolute."""
    assert glued["quadrature_max_abs_error"] < 1e-6


def test_grid_recovers_the_simulated_dispersion(glued):
    """With 300 000 stars the dispersion is known to ~0.015 km/s, so the best point of the
    grid lies within one grid step (0.065 km/s) of the true 9 km/s."""
    assert abs(glued["best_dispersion"] - 9.0) <= glued["grid_step"] + 1e-9


def test_dask_array_reproduces_the_closed_form_at_the_truth(glued):
    assert abs(glued["dask_array_loglike"] - glued["exact_loglike_at_truth"]) < 1e-6


# --- parallel results equal serial ones --------------------------------------------------------

@pytest.mark.parametrize("name", [
    "pool_equals_serial",                  # ProcessPoolExecutor and Pool, same chunks: bitwise
    "likelihood_jobs_equal_serial",        # the timed jobs with 1 and 2 workers: bitwise
    "joblib_equals_serial",
    "emcee_pool_chain_equal",              # emcee with a multiprocessing pool: the same chain
    "emcee_mpi_chain_equal",               # emcee with an MPIPoolExecutor under mpiexec -n 3
    "bootstrap_identical_across_workers",  # SeedSequence.spawn: 1 and 2 workers, same resamples
    "ipp_bootstrap_identical",             # ...and the same on ipyparallel engines
])
def test_parallel_result_equals_serial(glued, name):
    assert glued[name] is True


@pytest.mark.parametrize("name", ["mpi_likelihood_max_rel_diff", "ipp_max_rel_diff",
                                  "dask_delayed_max_rel_diff"])
def test_differently_split_sums_agree_to_rounding(glued, name):
    """Splitting the stars differently only changes the order of floating-point additions."""
    assert glued[name] < 1e-12


def test_forked_workers_share_the_legacy_global_generator(glued):
    """The trap the chapter demonstrates: forked workers draw identical 'random' numbers
    from numpy's legacy global state."""
    assert glued["legacy_fork_duplicates"] is True


# --- Amdahl's law beside the measurements ------------------------------------------------------

def test_speedup_table_is_produced(glued):
    """Three likelihood rows (serial, 1 and 2 workers) and two emcee rows (serial, pool);
    the speedups themselves are timings, printed and not asserted."""
    assert glued["speedup_table_rows"] == 5
    for name in ("speedup_likelihood_2", "speedup_emcee_2", "speedup_emcee_mpi",
                 "thread_speedup_python", "thread_speedup_numpy", "thread_speedup_io"):
        assert math.isfinite(glued[name]) and glued[name] > 0, name


@pytest.mark.parametrize("job", ["likelihood", "emcee"])
def test_amdahl_prediction_is_the_closed_form(glued, job):
    s = glued[f"s_{job}"]
    assert 0.0 < s < 1.0
    assert glued[f"amdahl_{job}_2"] == pytest.approx(amdahl(s, 2), rel=1e-12)


@pytest.mark.parametrize("label, seconds, printed_speedup, workers",
                         [("pool", 6.5, 3.3, 4), ("mpi", 8.9, 2.4, 3)])
def test_emcee_tutorial_numbers(glued, label, seconds, printed_speedup, workers):
    """The chapter's reading of emcee's tutorial: 21.5 s serial against 6.5 s (a pool of 4)
    and 8.9 s (MPI on 4 ranks: rank 0 only hands out work, so 3 workers) are the speedups the
    tutorial prints, and their Karp-Flatt serial fractions are 0.070 and 0.121."""
    speedup = glued[f"emcee_tutorial_speedup_{label}"]
    assert round(speedup, 1) == printed_speedup
    assert speedup == pytest.approx(21.5 / seconds)
    e = glued[f"emcee_tutorial_karp_flatt_{label}"]
    assert e == pytest.approx(karp_flatt(21.5 / seconds, workers))
    assert amdahl(e, workers) == pytest.approx(speedup), "Karp-Flatt's e is the s that makes Amdahl's law fit"
    assert round(e, 3) == {"pool": 0.070, "mpi": 0.121}[label]


def test_the_halo_exchange_equals_serial_on_every_rank_count_and_spreads_like_a_random_walk(glued):
    """The chapter's 1-4 rank runs are bit-for-bit the serial grid; the variance is 2 nu n."""
    assert glued["halo_all_equal"] is True
    assert glued["halo_variance"] == pytest.approx(2 * 0.25 * 400, rel=1e-9)
    assert glued["halo_messages_4"] == 2 * 3 * 400


def test_mpipool_and_schwimmbad_maps_equal_the_serial_map(glued):
    assert glued["mpi_pools_equal"] is True


def test_a_job_array_and_a_resumed_checkpoint_reproduce_the_single_run(glued):
    """Array tasks run in any order combine to the one-loop result; emcee's HDF5 backend
    continues a killed chain into exactly the uninterrupted chain."""
    assert glued["array_equal_loop"] is True
    assert glued["checkpoint_equal"] is True


def test_the_profiling_sections_three_likelihoods_agree(glued):
    """Timings are not asserted (they depend on the machine); the equality is."""
    assert glued["speed_versions_agree"] is True


def test_the_worker_timeline_ran_every_task_once_in_each_schedule(glued):
    assert glued["balance_tasks_run"] == 24
    assert glued["balance_ideal_seconds"] == pytest.approx((3 * 0.24 + 9 * 0.04) / 2)
