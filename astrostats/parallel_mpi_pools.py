"""The same map on MPI ranks with two pool libraries, mpipool and schwimmbad.

Run with ``mpiexec -n 3 python -m astrostats.parallel_mpi_pools mpipool OUT.npy`` (or
``schwimmbad``). Every rank runs this file; one rank (the main one) runs the map and the others
wait for tasks. Each task is the log-likelihood of one dispersion for the parallel chapter's
simulated stars, which every rank simulates identically from the same seed. The main rank saves
the results in task order.
"""
import sys

import numpy as np

from astrostats.parallel import chunk_log_likelihood, simulate_velocities

VELOCITIES, ERRORS = simulate_velocities(20_000, 52.0, 9.0, seed=2024)
DISPERSIONS = np.linspace(8.0, 10.0, 24)


def log_likelihood(dispersion):
    return float(chunk_log_likelihood(VELOCITIES, ERRORS, [(52.0, dispersion)])[0])


def with_mpipool():
    """The results on the main rank; None on the others."""
    from mpipool import MPIExecutor

    with MPIExecutor() as pool:
        pool.workers_exit()      # worker ranks serve tasks here, then skip the rest of the block
        return list(pool.map(log_likelihood, DISPERSIONS))


def with_schwimmbad():
    """The results on the main rank; the worker ranks never return from ``MPIPool()``."""
    from schwimmbad import MPIPool

    pool = MPIPool()     # worker ranks serve tasks inside this call, then exit
    # No `with` block and no close(): the pool closes itself when the main rank exits, and
    # closing it twice sends stop messages to workers that may have finished already.
    return list(pool.map(log_likelihood, DISPERSIONS))


if __name__ == "__main__":
    library, out = sys.argv[1], sys.argv[2]
    results = {"mpipool": with_mpipool, "schwimmbad": with_schwimmbad}[library]()
    if results is not None:      # only the main rank has them
        np.save(out, np.array(results))
