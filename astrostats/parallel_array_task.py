"""One task of a Slurm job array: bootstrap resamples with the task's own random stream.

Slurm starts ``python -m astrostats.parallel_array_task OUT_FOLDER`` once per task, in any
order and on any node, with ``SLURM_ARRAY_TASK_ID`` set to 0, 1, ..., N_TASKS - 1. The task
number picks one child of a single SeedSequence, so the combined result depends on the seed
alone, not on the order in which the tasks ran or on which of them were rerun.
"""
import os
import sys
from pathlib import Path

import numpy as np

from astrostats.parallel import bootstrap_dispersions, simulate_velocities

SEED, N_TASKS, RESAMPLES = 2025, 4, 100


def task_result(task_id: int) -> np.ndarray:
    velocities, errors = simulate_velocities(2000, 52.0, 9.0, seed=11)
    child = np.random.SeedSequence(SEED).spawn(N_TASKS)[task_id]
    return bootstrap_dispersions(child, velocities, errors, RESAMPLES)


if __name__ == "__main__":
    task_id = int(os.environ["SLURM_ARRAY_TASK_ID"])
    np.save(Path(sys.argv[1]) / f"task-{task_id:03d}.npy", task_result(task_id))
