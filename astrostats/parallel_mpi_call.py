"""Run one pickled function call on every rank of an MPI job (see `parallel.run_with_mpiexec`).

Usage: ``mpiexec -n N python -m astrostats.parallel_mpi_call FOLDER``. FOLDER holds
``task.pkl``, the pair (func, root_args). Each rank calls ``func(comm, *args)``; rank 0
pickles its return value into ``result.pkl``. A rank that raises writes its traceback to
``error-<rank>.txt`` and aborts the whole job, so no other rank waits for it forever.
"""
import pickle
import sys
import traceback
from pathlib import Path

from mpi4py import MPI


def main(folder: Path) -> None:
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    try:
        func, root_args = pickle.loads((folder / "task.pkl").read_bytes())
        args = root_args if rank == 0 else (None,) * len(root_args)
        result = func(comm, *args)
        if rank == 0:
            (folder / "result.pkl").write_bytes(pickle.dumps(result))
    except BaseException:
        (folder / f"error-{rank}.txt").write_text(traceback.format_exc(limit=-3), encoding="utf-8")
        comm.Abort(1)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
