"""The process group msparam's parallel code talks to: MPI's COMM_WORLD through mpi4py, or one
rank of one when mpi4py is missing or the script was not started by ``mpiexec``.

Only what msparam needs: a barrier, object broadcast/gather, an error agreement that never lets
one rank wait for a rank that has already raised, and raw byte transfers of NumPy arrays (any
dtype, as MPI.BYTE, so float16 and bfloat16 need no MPI datatype).
"""
import os
from typing import Any, NoReturn, Union

import numpy as np
import numpy.typing as npt

__all__ = ["World", "SingleProcess", "ProcessGroup", "launched_size", "open_mpi_world"]

# Set by the launchers (MPICH/Hydra, Open MPI, PMIx, Slurm) in every process they start.
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def launched_size() -> int:
    """The number of processes an MPI launcher says it started, or 1."""
    for variable in _SIZE_VARIABLES:
        value = os.environ.get(variable)
        if value and value.isdigit():
            return int(value)
    return 1


class SingleProcess:
    """Rank 0 of a group of one: every collective is the identity."""

    rank = 0
    size = 1

    def barrier(self) -> None:
        pass

    def bcast(self, value: Any, root: int = 0) -> Any:
        return value

    def allgather(self, value: Any) -> list[Any]:
        return [value]

    def gather(self, value: Any, root: int = 0) -> "list[Any] | None":
        return [value]

    def agree(self, error: "BaseException | None") -> None:
        """Raise ``error`` (an exception or None); with one rank nobody else is waiting."""
        if error is not None:
            raise error

    def send_array(self, array: npt.NDArray[Any], dest: int) -> NoReturn:
        raise RuntimeError("A group of one rank has nobody to send to.")

    def recv_array_into(self, out: npt.NDArray[Any], source: int) -> NoReturn:
        raise RuntimeError("A group of one rank has nobody to receive from.")

    def free(self) -> None:
        pass


class World:
    """An mpi4py communicator (a duplicate of COMM_WORLD, so msparam's messages never mix with the
    user's own)."""

    def __init__(self, comm: Any) -> None:  # an mpi4py Intracomm
        self._comm = comm
        self.rank: int = comm.Get_rank()
        self.size: int = comm.Get_size()

    def barrier(self) -> None:
        self._comm.Barrier()

    def bcast(self, value: Any, root: int = 0) -> Any:
        return self._comm.bcast(value, root=root)

    def allgather(self, value: Any) -> list[Any]:
        return list(self._comm.allgather(value))

    def gather(self, value: Any, root: int = 0) -> "list[Any] | None":
        gathered = self._comm.gather(value, root=root)
        return None if gathered is None else list(gathered)

    def agree(self, error: "BaseException | None") -> None:
        """Every rank learns whether any rank failed: the local ``error`` is raised where it
        happened, a RuntimeError naming the failed ranks everywhere else, so no rank is left
        waiting in a later collective for one that gave up."""
        failed = self._comm.allgather(None if error is None else f"{type(error).__name__}: {error}")
        if error is not None:
            raise error
        ranks = [rank for rank, message in enumerate(failed) if message is not None]
        if ranks:
            raise RuntimeError(f"Rank(s) {ranks} failed: {failed[ranks[0]]}")

    def send_array(self, array: npt.NDArray[Any], dest: int) -> None:
        self._comm.Send([np.ascontiguousarray(array).reshape(-1).view(np.uint8), _mpi().BYTE], dest=dest)

    def recv_array_into(self, out: npt.NDArray[Any], source: int) -> None:
        """Receive into the C-contiguous array ``out`` (its bytes, whatever its dtype)."""
        self._comm.Recv([out.reshape(-1).view(np.uint8), _mpi().BYTE], source=source)

    def free(self) -> None:
        self._comm.Free()


def _mpi() -> Any:
    from mpi4py import MPI
    return MPI


def open_mpi_world() -> "World | None":
    """A World over mpi4py's COMM_WORLD, or None when mpi4py (or the MPI library it loads) is
    missing."""
    try:
        MPI = _mpi()
    except (ImportError, RuntimeError):
        return None
    return World(MPI.COMM_WORLD.Dup())


# What msparam's parallel code talks to.
ProcessGroup = Union[World, SingleProcess]
