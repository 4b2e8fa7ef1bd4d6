"""msparam.communication in one process: MindSpore's names, rank 0 of 1, and refusals."""
import pytest

import msparam.communication as comm
from msparam.communication import _world


@pytest.fixture
def released():
    yield
    comm.release()


def test_before_init_rank_0_of_1_as_mindspore():
    assert comm.get_rank() == 0 and comm.get_group_size() == 1


def test_init_without_a_launcher_is_one_rank(released):
    comm.init()
    assert comm.GlobalComm.INITED
    assert comm.get_rank() == 0 and comm.get_group_size() == 1
    assert comm.get_rank(comm.GlobalComm.WORLD_COMM_GROUP) == 0
    comm.init("mccl")  # again: nothing changes
    assert comm.get_group_size() == 1
    comm.release()
    assert not comm.GlobalComm.INITED and comm.get_rank() == 0


def test_init_without_mpi4py_is_one_rank(monkeypatch, released):
    monkeypatch.setattr(_world, "open_mpi_world", lambda: None)
    for variable in _world._SIZE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    comm.init()
    assert comm.get_group_size() == 1


def test_init_refuses_a_multi_process_launch_without_mpi4py(monkeypatch, released):
    monkeypatch.setattr(_world, "open_mpi_world", lambda: None)
    monkeypatch.setenv("PMI_SIZE", "4")
    with pytest.raises(RuntimeError, match="4 processes but mpi4py"):
        comm.init()
    assert not comm.GlobalComm.INITED


@pytest.mark.parametrize("backend, error", [(1, TypeError), ("hccl", RuntimeError), ("nccl", RuntimeError),
                                            ("gloo", RuntimeError)])
def test_init_refuses_other_backends(backend, error):
    with pytest.raises(error, match="backend_name"):
        comm.init(backend)
    assert not comm.GlobalComm.INITED


@pytest.mark.parametrize("function", [comm.get_rank, comm.get_group_size])
def test_group_must_be_the_world(function):
    with pytest.raises(TypeError, match="'group' must be type of string"):
        function(1)
    with pytest.raises(ValueError, match="world group"):
        function("my_group")
    for name in (comm.HCCL_WORLD_COMM_GROUP, comm.NCCL_WORLD_COMM_GROUP, comm.MCCL_WORLD_COMM_GROUP):
        assert function(name) in (0, 1)


def test_one_rank_collectives_are_the_identity():
    one = _world.SingleProcess()
    assert one.bcast(3) == 3 and one.allgather(3) == [3] and one.gather(3) == [3]
    one.barrier()
    one.agree(None)
    with pytest.raises(KeyError):
        one.agree(KeyError("x"))
