"""Collective communication with MindSpore's names: ``init``, ``release``, ``get_rank``,
``get_group_size``, over MPI (mpi4py); one rank of one without it."""
from msparam.communication.management import (GlobalComm, HCCL_WORLD_COMM_GROUP, MCCL_WORLD_COMM_GROUP,
                                              NCCL_WORLD_COMM_GROUP, get_group_size, get_rank, init, release)

__all__ = ["GlobalComm", "init", "release", "get_rank", "get_group_size",
           "HCCL_WORLD_COMM_GROUP", "NCCL_WORLD_COMM_GROUP", "MCCL_WORLD_COMM_GROUP"]
