"""Explicit 1-D diffusion, serially and split across MPI ranks with a halo exchange.

The parallel chapter's example of communication-bound work: each rank owns a contiguous slab
of the grid plus one ghost cell on each side; before every step neighbours swap their edge
cells (``Sendrecv``), so each rank can update its slab as if it held the whole grid. The
update is the same floating-point arithmetic in the same order, so the result equals the
serial one exactly, for any number of ranks.
"""
import numpy as np


def diffusion_step(u: np.ndarray, nu: float) -> np.ndarray:
    """One explicit step of du/dt = d2u/dx2 on the interior of ``u`` (its first and last cells
    are boundary or ghost cells and are returned unchanged)."""
    new = u.copy()
    new[1:-1] = u[1:-1] + nu * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return new


def diffuse_serial(u0, steps: int, nu: float = 0.25) -> np.ndarray:
    """``steps`` steps from ``u0`` with zero (absorbing) boundaries outside both ends."""
    u = np.pad(np.asarray(u0, float), 1)
    for _ in range(steps):
        u = diffusion_step(u, nu)
    return u[1:-1]


def diffuse_mpi(comm, u0, steps: int, nu: float = 0.25):
    """The same on every rank of ``comm``. Rank 0's arguments count (the other ranks may pass
    None, as ``run_with_mpiexec`` does); rank 0 returns (final grid, messages sent by all
    ranks), the others (None, None)."""
    from mpi4py import MPI

    rank, size = comm.Get_rank(), comm.Get_size()
    steps, nu = comm.bcast((steps, nu), root=0)
    chunks = np.array_split(np.asarray(u0, float), size) if rank == 0 else None
    local = np.pad(comm.scatter(chunks, root=0), 1)            # one ghost cell on each side
    left = rank - 1 if rank > 0 else MPI.PROC_NULL              # PROC_NULL: a no-op partner,
    right = rank + 1 if rank < size - 1 else MPI.PROC_NULL      # so the outer ghosts stay 0
    sent = 0
    for _ in range(steps):
        comm.Sendrecv(local[-2:-1], dest=right, recvbuf=local[0:1], source=left)   # edges go right
        comm.Sendrecv(local[1:2], dest=left, recvbuf=local[-1:], source=right)     # and left
        sent += (left != MPI.PROC_NULL) + (right != MPI.PROC_NULL)
        local = diffusion_step(local, nu)
    pieces, messages = comm.gather(local[1:-1], root=0), comm.reduce(sent, root=0)
    return (np.concatenate(pieces), messages) if rank == 0 else (None, None)
