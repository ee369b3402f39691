"""The reference solution of the parallel exercise, and the astrostats helpers it relies on,
reproduce closed forms and the serial computations they parallelise; the probes of Q2 and Q6
reject answers that are right only by luck or without parallelism, and accept every correct
method."""
import math
import os
import re
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
from scipy import stats

from astrostats import parallel as helpers
from autograder.assemble import notebook_cells
from autograder.course import Assignment
from autograder.notebook import ANSWER, LOCKED, read_notebook

SOURCE = read_notebook(Assignment("parallel").source)
FIXTURES = Path(__file__).parent / "fixtures" / "parallel"


@contextmanager
def notebook_module(name, **answers):
    """The setup and answer cells of the reference solution, run in a module of this process,
    with the answer cells named in ``answers`` (q2_answer=code) replaced.

    A real module (registered in sys.modules) lets process pools pickle its functions by
    reference; cloudpickle sends them by value to MPI ranks, as it does from a notebook.
    """
    module = types.ModuleType(name)
    sys.modules[name] = module
    cloudpickle.register_pickle_by_value(module)
    try:
        for cell in notebook_cells(SOURCE):
            if cell.role in (ANSWER, LOCKED):
                code = answers.get(cell.id.replace("-", "_"), cell.source)
                exec(compile(code, cell.id, "exec"), module.__dict__)
        yield module
    finally:
        cloudpickle.unregister_pickle_by_value(module)
        del sys.modules[name]


@pytest.fixture(scope="module")
def ref():
    with notebook_module("parallel_reference") as module:
        yield module


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


def hidden_tests(question):
    (cell,) = [c for c in notebook_cells(SOURCE) if c.id == question]
    return "\n".join(re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S))


def run_probes(module, question):
    """Run a question's hidden tests in ``module``; return {probe name: value}."""
    recorded = {}
    module.probe = lambda name, value, **tolerances: recorded.setdefault(name, value)
    exec(compile(hidden_tests(question), f"{question}-hidden", "exec"), module.__dict__)
    return recorded


def test_a_completion_order_map_fails_the_order_probe_every_time():
    """The probe forces the chunks to finish in reverse (see its comment): a map that
    collects results with as_completed returns [2, 1, 0] in every one of six runs, and the
    reference [0, 1, 2]."""
    fixture = (FIXTURES / "q2-answer--completion-order.py").read_text()
    with notebook_module("parallel_completion_order", q2_answer=fixture) as module:
        runs = [run_probes(module, "q2")["chunks-finish-in-reverse"]]
        runs += [module._chunks_finishing_in_reverse(3) for _ in range(5)]
    assert runs == [[2, 1, 0]] * 6
    with notebook_module("parallel_in_order") as module:
        assert run_probes(module, "q2")["chunks-finish-in-reverse"] == [0, 1, 2]


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
    """The total, and each rank's partial sum (what it sent into the reduction) over its
    own chunk of stars."""
    v, e = helpers.simulate_velocities(501, 10.0, 6.0, seed=3)
    per_star = stats.norm.logpdf(v, 11.0, np.sqrt(6.5**2 + e**2))
    total, sent = helpers.run_with_mpiexec(helpers.RecordingReductions(ref.mpi_log_likelihood),
                                           v, e, 11.0, 6.5, n_ranks=n_ranks)
    assert total == pytest.approx(per_star.sum(), rel=1e-12)
    chunks = np.array_split(per_star, n_ranks)
    assert [len(numbers) for numbers in sent] == [1] * n_ranks
    assert [numbers[0] for numbers in sent] == pytest.approx([c.sum() for c in chunks], rel=1e-12)


def test_rank_zero_alone_gets_the_total_but_sends_nothing_into_a_reduction():
    fixture = (FIXTURES / "q6-answer--rank-zero-does-it-all.py").read_text()
    namespace = {"np": np}
    exec(fixture, namespace)
    v, e = helpers.simulate_velocities(300, 0.0, 5.0, seed=4)
    total, sent = helpers.run_with_mpiexec(helpers.RecordingReductions(namespace["mpi_log_likelihood"]),
                                           v, e, 0.0, 5.0, n_ranks=2)
    assert total == pytest.approx(stats.norm.logpdf(v, 0.0, np.sqrt(25.0 + e**2)).sum(), rel=1e-12)
    assert sent == [[], []]


def test_reduction_recorder_notes_every_kind_of_reduction_operand():
    """Objects, numpy buffers, [buffer, datatype] specifications and MPI.IN_PLACE (whose
    operand is the receive buffer), passed by position or by keyword; anything that is not
    numbers is noted as nan; other collectives pass through unrecorded."""
    def reductions(comm, _):
        from mpi4py import MPI

        comm.reduce(sendobj=comm.Get_rank() + 0.5, op=MPI.SUM, root=0)
        comm.Allreduce(np.array([1.0, comm.rank]), np.zeros(2))
        comm.Allreduce(MPI.IN_PLACE, recvbuf=np.array([2.0]))
        comm.Reduce([np.array([3.0]), MPI.DOUBLE], np.zeros(1) if comm.rank == 0 else None, root=0)
        comm.allreduce("text", op=MPI.MAX)
        comm.gather(comm.bcast(7, root=0), root=0)
        return comm.allreduce(comm.rank)

    total, sent = helpers.run_with_mpiexec(helpers.RecordingReductions(reductions), None, n_ranks=3)
    assert total == 3
    for rank, numbers in enumerate(sent):
        assert numbers[:-2] == [rank + 0.5, 1.0, rank, 2.0, 3.0]
        assert math.isnan(numbers[-2]) and numbers[-1] == rank


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


# --- the probes accept every correct method ----------------------------------------------------

ALTERNATIVES = [
    {   # executor.map over the chunks; allreduce, np.array_split and the rank/size attributes
        "q2-answer": """
def apply_to_chunk(func, chunk):
    return list(map(func, chunk))


def parallel_map(func, items, n_workers=N_WORKERS):
    items = list(items)
    chunks = [items[start:stop] for start, stop in chunk_bounds(len(items), n_workers)]
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=fork_context) as executor:
        return [result for chunk in executor.map(apply_to_chunk, [func] * len(chunks), chunks) for result in chunk]
""",
        "q6-answer": """
def mpi_log_likelihood(comm, velocities, errors, mean, dispersion):
    from mpi4py import MPI

    mean = comm.bcast(mean, root=0)
    dispersion = comm.bcast(dispersion, root=0)
    pieces = None
    if comm.rank == 0:
        pieces = list(zip(np.array_split(velocities, comm.size), np.array_split(errors, comm.size)))
    v, e = comm.scatter(pieces, root=0)
    variance = dispersion**2 + e**2
    total = comm.allreduce(np.sum(-0.5 * (v - mean) ** 2 / variance - 0.5 * np.log(2 * np.pi * variance)), op=MPI.SUM)
    return float(total) if comm.rank == 0 else None
""",
    },
    {   # as_completed, each chunk put back in its place; a buffer Reduce of scipy densities
        "q2-answer": """
from concurrent.futures import as_completed


def apply_to_chunk(func, chunk):
    return [func(item) for item in chunk]


def parallel_map(func, items, n_workers=N_WORKERS):
    items = list(items)
    bounds = chunk_bounds(len(items), n_workers)
    chunks = [None] * len(bounds)
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=fork_context) as executor:
        futures = {executor.submit(apply_to_chunk, func, items[a:b]): k for k, (a, b) in enumerate(bounds)}
        for future in as_completed(futures):
            chunks[futures[future]] = future.result()
    return [result for chunk in chunks for result in chunk]
""",
        "q6-answer": """
def mpi_log_likelihood(comm, velocities, errors, mean, dispersion):
    from mpi4py import MPI
    from scipy import stats

    rank, size = comm.Get_rank(), comm.Get_size()
    mean, dispersion = comm.bcast([mean, dispersion] if rank == 0 else None, root=0)
    chunks = None
    if rank == 0:
        chunks = [(velocities[a:b], errors[a:b]) for a, b in chunk_bounds(len(velocities), size)]
    v, e = comm.scatter(chunks, root=0)
    partial = np.array([stats.norm.logpdf(v, mean, np.sqrt(dispersion**2 + e**2)).sum()])
    total = np.zeros(1) if rank == 0 else None
    comm.Reduce([partial, MPI.DOUBLE], total, op=MPI.SUM, root=0)
    return float(total[0]) if rank == 0 else None
""",
        # Q7 with pickled lower-case sendrecv of the edge values, and a numpy-roll update
        "q7-answer": """
def ring_diffusion(comm, u0, steps, nu):
    rank, size = comm.rank, comm.size
    steps, nu = comm.bcast((steps, nu) if rank == 0 else None, root=0)
    mine = comm.scatter(np.array_split(np.asarray(u0, float), size) if rank == 0 else None, root=0)
    for _ in range(steps):
        from_left = comm.sendrecv(mine[-1], dest=(rank + 1) % size, source=(rank - 1) % size)
        from_right = comm.sendrecv(mine[0], dest=(rank - 1) % size, source=(rank + 1) % size)
        padded = np.concatenate([[from_left], mine, [from_right]])
        mine = padded[1:-1] + nu * (padded[2:] - 2.0 * padded[1:-1] + padded[:-2])
    grid = comm.gather(mine, root=0)
    return np.concatenate(grid) if rank == 0 else None
""",
    },
]


@pytest.mark.parametrize("answers", ALTERNATIVES, ids=["map-allreduce", "as-completed-buffer-reduce"])
def test_other_correct_methods_earn_full_marks(grade_with_answers, answers):
    results = grade_with_answers("parallel", answers)
    assert [(r.id, r.points, r.status) for r in results] == \
        [(q, points, "passed") for q, points in (("q1", 1), ("q2", 2), ("q3", 2), ("q4", 1), ("q5", 2), ("q6", 2), ("q7", 2))]
