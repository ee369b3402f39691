"""The velocity-dispersion likelihood with MPI: point-to-point messages, then scatter and reduce.

Run on two ranks with ``mpiexec -n 2 python -m astrostats.parallel_mpi_likelihood OUT.npy``.
Every rank runs this same file (SPMD: single program, multiple data); what a rank does
depends on its number, ``comm.Get_rank()``.
"""
import sys

import numpy as np
from mpi4py import MPI

from astrostats.parallel import chunk_log_likelihood, simulate_velocities

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()

# Point to point: any picklable object with the lower-case methods...
if rank == 0:
    comm.send({"target": "globular cluster", "n_stars": 300_000}, dest=size - 1, tag=1)
    reply = comm.recv(source=size - 1, tag=2)
    print(f"rank 0 got back: {reply}")
elif rank == size - 1:
    request = comm.recv(source=0, tag=1)
    comm.send(f"rank {rank} of {size} will take its share of {request['n_stars']} stars", dest=0, tag=2)

# ...and numpy arrays with the upper-case ones, straight from memory without pickling.
if rank == 0:
    ping = np.arange(5, dtype=float)
    comm.Send(ping, dest=size - 1, tag=3)
    pong = np.empty(5)
    comm.Recv(pong, source=size - 1, tag=4)
    print(f"rank 0 sent {ping}, got {pong}")
elif rank == size - 1:
    buffer = np.empty(5)
    comm.Recv(buffer, source=0, tag=3)
    comm.Send(2 * buffer, dest=0, tag=4)

# Collectives: rank 0 "reads" the catalogue, scatters one chunk to every rank (itself
# included), broadcasts the parameter grid, and adds up the partial sums with reduce.
if rank == 0:
    velocities, errors = simulate_velocities(300_000, 52.0, 9.0, seed=2024)
    chunks = [(v, e) for v, e in zip(np.array_split(velocities, size), np.array_split(errors, size))]
    thetas = [(52.0, dispersion) for dispersion in np.linspace(8.0, 10.0, 32)]
else:
    chunks, thetas = None, None
my_velocities, my_errors = comm.scatter(chunks, root=0)
thetas = comm.bcast(thetas, root=0)
partial = chunk_log_likelihood(my_velocities, my_errors, thetas)
total = comm.reduce(partial, op=MPI.SUM, root=0)
stars_per_rank = comm.gather(my_velocities.size, root=0)

if rank == 0:
    np.save(sys.argv[1], total)
    print(f"rank 0: stars per rank {stars_per_rank}")
    best = thetas[int(np.argmax(total))][1]
    print(f"rank 0: the log-likelihood peaks at a dispersion of {best:.2f} km/s")
