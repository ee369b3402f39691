"""emcee with an MPI pool: the set-up of emcee's parallelisation tutorial, scaled down.

Run with ``mpiexec -n 3 python -m mpi4py.futures -m astrostats.parallel_mpi_emcee OUT.npy``.
``-m mpi4py.futures`` turns ranks 1, 2, ... into workers that wait for tasks; only rank 0
runs the code below, and ``MPIPoolExecutor`` hands the walkers' log-probabilities to the
workers. Its ``map`` is all that emcee's ``pool=`` argument needs: the pattern of
schwimmbad's ``MPIPool``.
"""
import sys
import time

import emcee
import numpy as np
from mpi4py.futures import MPIPoolExecutor

from astrostats.parallel import (EMCEE_COST, EMCEE_DIM, EMCEE_STEPS, EMCEE_WALKERS,
                                 CostlyLogProb, emcee_initial_state)

if __name__ == "__main__":
    with MPIPoolExecutor() as pool:
        sampler = emcee.EnsembleSampler(EMCEE_WALKERS, EMCEE_DIM, CostlyLogProb(EMCEE_COST), pool=pool)
        start = time.perf_counter()
        sampler.run_mcmc(emcee_initial_state(), EMCEE_STEPS)
        elapsed = time.perf_counter() - start
        print(f"{pool.num_workers} MPI workers: {elapsed:.3f} s")
    np.save(sys.argv[1], sampler.get_chain())
