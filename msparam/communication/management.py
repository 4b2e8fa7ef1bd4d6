"""init, release, get_rank and get_group_size with MindSpore 2.10's names and signatures, over MPI.

Start a script on N processes with ``mpiexec -n N python script.py`` (the ``msparam[mpi]`` extra
installs mpi4py and MPICH's ``mpiexec``).  Without mpi4py, or without a launcher, ``init()``
gives one rank of one and everything still works (MindSpore raises RuntimeError there).
"""
from msparam.communication import _world

__all__ = ["GlobalComm", "init", "release", "get_rank", "get_group_size",
           "HCCL_WORLD_COMM_GROUP", "NCCL_WORLD_COMM_GROUP", "MCCL_WORLD_COMM_GROUP"]

HCCL_WORLD_COMM_GROUP = "hccl_world_group"
NCCL_WORLD_COMM_GROUP = "nccl_world_group"
MCCL_WORLD_COMM_GROUP = "mccl_world_group"
# MindSpore's world group has one of these names depending on the backend; all mean the world here.
_WORLD_GROUPS = (HCCL_WORLD_COMM_GROUP, NCCL_WORLD_COMM_GROUP, MCCL_WORLD_COMM_GROUP)
_BACKENDS = ("mccl", "mpi")


class GlobalComm:
    """World communication information, as MindSpore's: ``BACKEND``, ``WORLD_COMM_GROUP``,
    ``INITED``."""

    BACKEND: str = "mpi"
    WORLD_COMM_GROUP: str = HCCL_WORLD_COMM_GROUP
    INITED: bool = False


_ONE_RANK = _world.SingleProcess()
_world_group: _world.ProcessGroup = _ONE_RANK


def init(backend_name: "str | None" = None) -> None:
    """Join the process group the launcher started (``mpiexec -n N``), through mpi4py.

    Parameters
    ----------
    backend_name : str, optional
        ``'mccl'`` (MindSpore's name for the CPU backend) or ``'mpi'``; None picks MPI.

    Raises
    ------
    TypeError
        If ``backend_name`` is not a str.
    RuntimeError
        If ``backend_name`` names a device backend ('hccl', 'nccl') or an unknown one, or the
        launcher started several processes but mpi4py cannot be imported (each would otherwise
        believe it is alone).

    Notes
    -----
    Without mpi4py, or when the script was not started by an MPI launcher, this is one rank of
    one; MindSpore raises RuntimeError there (a deliberate difference: a sharded script runs
    unchanged on one process).  Calling it again does nothing.
    """
    global _world_group
    if backend_name is None:
        backend_name = "mpi"
    if not isinstance(backend_name, str):
        raise TypeError(f"For 'init', the argument 'backend_name' must be a string, "
                        f"but got the type : {type(backend_name)}")
    if backend_name not in _BACKENDS:
        raise RuntimeError(f"For 'init', the argument 'backend_name' must be one of {list(_BACKENDS)} on the CPU "
                           f"(msparam runs over MPI), but got 'backend_name' : {backend_name}")
    if GlobalComm.INITED:
        return
    world: "_world.ProcessGroup | None" = _world.open_mpi_world()
    if world is None:
        size = _world.launched_size()
        if size > 1:
            raise RuntimeError(f"For 'init', the launcher started {size} processes but mpi4py cannot be imported; "
                               "install it with `pip install msparam[mpi]`.")
        world = _ONE_RANK
    _world_group = world
    GlobalComm.BACKEND = backend_name
    GlobalComm.WORLD_COMM_GROUP = MCCL_WORLD_COMM_GROUP
    GlobalComm.INITED = True


def release() -> None:
    """Leave the process group; ``get_rank()`` is 0 and ``get_group_size()`` 1 afterwards."""
    global _world_group
    if _world_group is not _ONE_RANK:
        _world_group.free()
    _world_group = _ONE_RANK
    GlobalComm.INITED = False


def _check_group(function: str, group: object) -> None:
    if not isinstance(group, str):
        raise TypeError(f"For '{function}', the argument 'group' must be type of string, "
                        f"but got 'group' type : {type(group)}.")
    if group not in _WORLD_GROUPS:
        raise ValueError(f"For '{function}', the argument 'group' must be the world group "
                         f"({GlobalComm.WORLD_COMM_GROUP!r}); msparam has no other groups, but got {group!r}.")


# The Raises section get_rank and get_group_size share.
_GROUP_RAISES_DOC = """
    Raises
    ------
    TypeError
        If ``group`` is not a str.
    ValueError
        If ``group`` is not the world group.
"""


def get_rank(group: str = GlobalComm.WORLD_COMM_GROUP) -> int:
    _check_group("get_rank", group)
    return _world_group.rank


def get_group_size(group: str = GlobalComm.WORLD_COMM_GROUP) -> int:
    _check_group("get_group_size", group)
    return _world_group.size


get_rank.__doc__ = "The rank of this process in ``group`` (0 before ``init()``, as MindSpore).\n" + _GROUP_RAISES_DOC
get_group_size.__doc__ = ("The number of processes in ``group`` (1 before ``init()``, as MindSpore).\n"
                          + _GROUP_RAISES_DOC)


def world() -> _world.ProcessGroup:
    """Package-internal seam: the current process group (barrier, broadcast, byte transfers)."""
    return _world_group
